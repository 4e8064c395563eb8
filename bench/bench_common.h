/* What the raw floor (floor.c) and the output floor (echo.c) share: one consumer with the same
 * settings, so the two floors differ only in what the output floor writes back. */
#ifndef SALESPULSE_BENCH_COMMON_H
#define SALESPULSE_BENCH_COMMON_H

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* The program's name in its error messages. */
static const char *bench_name = "bench";

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
                fprintf(stderr, "%s: %s\n", bench_name, errstr);
                exit(2);
        }
}

/* A client of `type` made from `conf` (which it takes over); exits on failure. */
static rd_kafka_t *new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
        char errstr[512];
        rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
        if (!rk) {
                fprintf(stderr, "%s: %s\n", bench_name, errstr);
                exit(1);
        }
        return rk;
}

/* A consumer in `group` that reads with the batch call SalesPulse uses; exits on failure. */
static rd_kafka_t *floor_consumer(const char *bootstrap, const char *group) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", bootstrap);
        set(conf, "group.id", group);
        set(conf, "enable.auto.commit", "false");
        set(conf, "enable.partition.eof", "false");
        /* Prefetch raised (the defaults throttle it to a third), as the reference consumer. */
        set(conf, "queued.min.messages", "1000000");
        set(conf, "queued.max.messages.kbytes", "2097151");
        set(conf, "fetch.max.bytes", "104857600");
        set(conf, "max.partition.fetch.bytes", "16777216");
        rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, conf);
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

/* Assigns every partition of `topic` from the beginning (no group join); exits on failure. */
static void assign_all(rd_kafka_t *rk, const char *topic, int partitions) {
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
        for (int p = 0; p < partitions; p++)
                rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        if (rd_kafka_assign(rk, list)) {
                fprintf(stderr, "%s: assign failed\n", bench_name);
                exit(1);
        }
        rd_kafka_topic_partition_list_destroy(list);
}

#endif
