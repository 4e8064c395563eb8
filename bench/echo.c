/* The output floor: the raw floor's consumer, plus a producer that writes back as many bytes
 * as it reads. SalesPulse writes about as many bytes of final summaries as it reads of events
 * (one summary of ~900 bytes per ~4.5 events of ~210 bytes), so this is the least any worker
 * must pay to Kafka for one pass of the feed on this machine, before doing any work of its own:
 * every GROUP input payloads are joined into one output message, produced with SalesPulse's
 * own producer settings (idempotent, linger 20 ms, LZ4) and delivered before the clock stops.
 *
 * usage: echo BOOTSTRAP TOPIC PARTITIONS EXPECTED OUT_TOPIC GROUP
 * Prints: events=N bytes=B out_messages=M out_bytes=O seconds_from_first=S seconds_total=T cpu_seconds=C */
#include "bench_common.h"

#include <string.h>

static long long failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk, (void)opaque;
        if (m->err) failed++;
}

int main(int argc, char **argv) {
        if (argc != 7) {
                fprintf(stderr, "usage: %s BOOTSTRAP TOPIC PARTITIONS EXPECTED OUT_TOPIC GROUP\n", argv[0]);
                return 2;
        }
        bench_name = "echo";
        const char *topic = argv[2], *out_topic = argv[5];
        int partitions = atoi(argv[3]), group = atoi(argv[6]);
        long long expected = atoll(argv[4]);
        rd_kafka_t *rk = floor_consumer(argv[1], "bench-echo");

        /* SalesPulse's producer defaults (Sources/Worker/Pipeline/KafkaProperties.swift). */
        rd_kafka_conf_t *pconf = rd_kafka_conf_new();
        set(pconf, "bootstrap.servers", argv[1]);
        set(pconf, "enable.idempotence", "true");
        set(pconf, "linger.ms", "20");
        set(pconf, "batch.num.messages", "10000");
        set(pconf, "message.timeout.ms", "0");
        set(pconf, "queue.buffering.max.messages", "100000");
        set(pconf, "queue.buffering.max.kbytes", "65536");
        set(pconf, "compression.type", "lz4");
        rd_kafka_conf_set_dr_msg_cb(pconf, on_delivery);
        rd_kafka_t *producer = new_client(RD_KAFKA_PRODUCER, pconf);
        rd_kafka_topic_t *out = rd_kafka_topic_new(producer, out_topic, NULL);

        double start = now(), first = 0;
        assign_all(rk, topic, partitions);
        rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);
        rd_kafka_message_t *batch[2048];
        long long events = 0, bytes = 0, out_messages = 0, out_bytes = 0;
        size_t cap = 1 << 16, used = 0;
        char *pending = malloc(cap);
        int joined = 0;
        while (events < expected) {
                ssize_t n = rd_kafka_consume_batch_queue(queue, 1000, batch, 2048);
                for (ssize_t i = 0; i < n; i++) {
                        rd_kafka_message_t *m = batch[i];
                        if (!m->err) {
                                if (!first) first = now();
                                events++;
                                bytes += m->len;
                                if (used + m->len > cap) {
                                        while (used + m->len > cap) cap *= 2;
                                        pending = realloc(pending, cap);
                                }
                                memcpy(pending + used, m->payload, m->len);
                                used += m->len;
                                if (++joined == group || events == expected) {
                                        /* Keyed like the input, so output partitions follow regions. */
                                        while (rd_kafka_produce(out, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                                                pending, used, m->key, m->key_len, NULL)) {
                                                /* Queue full: wait for deliveries, as SalesPulse does. */
                                                rd_kafka_poll(producer, 10);
                                        }
                                        out_messages++;
                                        out_bytes += used;
                                        used = 0;
                                        joined = 0;
                                }
                        }
                        rd_kafka_message_destroy(m);
                }
                rd_kafka_poll(producer, 0);
                if (now() - start > 600) {
                        fprintf(stderr, "echo: only %lld of %lld events after 600 s\n", events, expected);
                        return 1;
                }
        }
        if (rd_kafka_flush(producer, 600 * 1000)) {
                fprintf(stderr, "echo: output not delivered after 600 s\n");
                return 1;
        }
        double end = now();
        if (failed) {
                fprintf(stderr, "echo: %lld output messages failed\n", failed);
                return 1;
        }
        printf("events=%lld bytes=%lld out_messages=%lld out_bytes=%lld seconds_from_first=%.3f seconds_total=%.3f "
               "cpu_seconds=%.2f\n",
               events, bytes, out_messages, out_bytes, end - first, end - start, cpu_seconds());
        free(pending);
        rd_kafka_queue_destroy(queue);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        rd_kafka_topic_destroy(out);
        rd_kafka_destroy(producer);
        return 0;
}
