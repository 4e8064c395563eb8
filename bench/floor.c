/* The raw floor: the least a consumer on the system librdkafka can do with the benchmark's
 * data. It assigns every partition (no group join), reads every message from the beginning with
 * the same batch call SalesPulse uses and touches nothing but the length, and checks that no
 * partition's log start offset moved (the mock's silent deletion).
 *
 * usage: floor BOOTSTRAP TOPIC PARTITIONS EXPECTED
 * Prints: events=N bytes=B seconds_from_first=S seconds_total=T cpu_seconds=C low_watermarks_ok=1 */
#include "bench_common.h"

int main(int argc, char **argv) {
        if (argc != 5) {
                fprintf(stderr, "usage: %s BOOTSTRAP TOPIC PARTITIONS EXPECTED\n", argv[0]);
                return 2;
        }
        bench_name = "floor";
        const char *topic = argv[2];
        int partitions = atoi(argv[3]);
        long long expected = atoll(argv[4]);
        rd_kafka_t *rk = floor_consumer(argv[1], "bench-floor");
        double start = now(), first = 0;
        assign_all(rk, topic, partitions);
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
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return ok ? 0 : 1;
}
