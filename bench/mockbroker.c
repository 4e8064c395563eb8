/* The benchmark's broker: librdkafka's mock cluster, linked against the copy built by
 * build-mock.sh whose per-partition retention caps are raised. It never runs in SalesPulse.
 *
 * usage: mockbroker BROKERS TOPIC:PARTITIONS...
 * Prints the bootstrap servers on one line, then serves until SIGTERM/SIGINT or until the
 * process that started it exits (unless MOCKBROKER_DETACHED is set, for manual runs).
 *
 * With MOCKBROKER_CONTROL set to the path of a FIFO, it also takes fault commands from it, one
 * per line (the benchmark's back-pressure mode uses them):
 *   rtt BROKER MILLISECONDS
 *   leader TOPIC PARTITION BROKER */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void run_command(rd_kafka_mock_cluster_t *mc, const char *line) {
        char topic[256];
        int broker, ms, partition;
        if (sscanf(line, "rtt %d %d", &broker, &ms) == 2)
                rd_kafka_mock_broker_set_rtt(mc, broker, ms);
        else if (sscanf(line, "leader %255s %d %d", topic, &partition, &broker) == 3)
                rd_kafka_mock_partition_set_leader(mc, topic, partition, broker);
        else
                fprintf(stderr, "mockbroker: unknown command: %s\n", line);
}

/* Reads whole lines from the control FIFO without blocking. */
static void poll_control(rd_kafka_mock_cluster_t *mc, int fd, char *buf, size_t *len, size_t cap) {
        ssize_t n;
        while ((n = read(fd, buf + *len, cap - 1 - *len)) > 0) {
                *len += (size_t)n;
                buf[*len] = 0;
                char *start = buf, *nl;
                while ((nl = strchr(start, '\n'))) {
                        *nl = 0;
                        if (*start) run_command(mc, start);
                        start = nl + 1;
                }
                *len = strlen(start);
                memmove(buf, start, *len + 1);
                if (*len == cap - 1) *len = 0; /* an overlong line: drop it */
        }
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: %s BROKERS TOPIC:PARTITIONS...\n", argv[0]);
                return 2;
        }
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (!rk) {
                fprintf(stderr, "mockbroker: %s\n", errstr);
                return 1;
        }
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, atoi(argv[1]));
        if (!mc) {
                fprintf(stderr, "mockbroker: cannot start the mock cluster\n");
                return 1;
        }
        for (int i = 2; i < argc; i++) {
                char name[256];
                int partitions = 0;
                const char *colon = strrchr(argv[i], ':');
                if (!colon || colon == argv[i] || (size_t)(colon - argv[i]) >= sizeof name ||
                    (partitions = atoi(colon + 1)) <= 0) {
                        fprintf(stderr, "mockbroker: bad topic spec %s\n", argv[i]);
                        return 2;
                }
                memcpy(name, argv[i], colon - argv[i]);
                name[colon - argv[i]] = 0;
                if (rd_kafka_mock_topic_create(mc, name, partitions, 1)) {
                        fprintf(stderr, "mockbroker: cannot create %s\n", name);
                        return 1;
                }
        }
        printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        /* Never outlive the benchmark script, however it ends. */
        if (!getenv("MOCKBROKER_DETACHED")) prctl(PR_SET_PDEATHSIG, SIGTERM);
        const char *control = getenv("MOCKBROKER_CONTROL");
        /* Read-write, so the FIFO never reports end of file between writers. */
        int fd = control ? open(control, O_RDWR | O_NONBLOCK) : -1;
        if (control && fd < 0) {
                fprintf(stderr, "mockbroker: cannot open %s: %s\n", control, strerror(errno));
                return 1;
        }
        char buf[4096];
        size_t len = 0;
        while (!stop) {
                if (fd >= 0) poll_control(mc, fd, buf, &len, sizeof buf);
                usleep(100000);
        }
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
