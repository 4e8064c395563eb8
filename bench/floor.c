/* The raw floor: the least a consumer on the system librdkafka can do with the benchmark's
 * data. It assigns every partition (no group join), reads every message from the beginning with
 * the same batch call SalesPulse uses and touches nothing but the length, and checks that no
 * partition's log start offset moved (the mock's silent deletion).
 *
 * usage: floor BOOTSTRAP TOPIC PARTITIONS EXPECTED
 * Prints: events=N bytes=B seconds_from_first=S seconds_total=T cpu_seconds=C low_watermarks_ok=1 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* User and system CPU of this process so far, in seconds (librdkafka's threads included). */
static double cpu_seconds(void) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
        char errstr[256];
        if (rd_kafka_conf_set(conf, k, v, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "floor: %s\n", errstr);
                exit(2);
        }
}

int main(int argc, char **argv) {
        if (argc != 5) {
                fprintf(stderr, "usage: %s BOOTSTRAP TOPIC PARTITIONS EXPECTED\n", argv[0]);
                return 2;
        }
        const char *topic = argv[2];
        int partitions = atoi(argv[3]);
        long long expected = atoll(argv[4]);
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", argv[1]);
        set(conf, "group.id", "bench-floor");
        set(conf, "enable.auto.commit", "false");
        set(conf, "enable.partition.eof", "false");
        /* Prefetch raised (the defaults throttle it to a third), as the reference consumer. */
        set(conf, "queued.min.messages", "1000000");
        set(conf, "queued.max.messages.kbytes", "2097151");
        set(conf, "fetch.max.bytes", "104857600");
        set(conf, "max.partition.fetch.bytes", "16777216");
        char errstr[512];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
        if (!rk) {
                fprintf(stderr, "floor: %s\n", errstr);
                return 1;
        }
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
        for (int p = 0; p < partitions; p++)
                rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        double start = now(), first = 0;
        if (rd_kafka_assign(rk, list)) {
                fprintf(stderr, "floor: assign failed\n");
                return 1;
        }
        rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);
        rd_kafka_message_t *batch[2048];
        long long events = 0, bytes = 0;
        while (events < expected) {
                ssize_t n = rd_kafka_consume_batch_queue(queue, 1000, batch, 2048);
                for (ssize_t i = 0; i < n; i++) {
                        if (!batch[i]->err) {
                                if (!first) first = now();
                                events++;
                                bytes += batch[i]->len;
                        }
                        rd_kafka_message_destroy(batch[i]);
                }
                if (now() - start > 600) {
                        fprintf(stderr, "floor: only %lld of %lld events after 600 s\n", events, expected);
                        return 1;
                }
        }
        double end = now();
        int ok = 1;
        for (int p = 0; p < partitions; p++) {
                int64_t low = 0, high = 0;
                if (rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high, 10000) || low != 0) {
                        fprintf(stderr, "floor: %s[%d] log start offset is %lld\n", topic, p, (long long)low);
                        ok = 0;
                }
        }
        printf("events=%lld bytes=%lld seconds_from_first=%.3f seconds_total=%.3f cpu_seconds=%.2f low_watermarks_ok=%d\n",
               events, bytes, end - first, end - start, cpu_seconds(), ok);
        rd_kafka_queue_destroy(queue);
        rd_kafka_topic_partition_list_destroy(list);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return ok ? 0 : 1;
}
