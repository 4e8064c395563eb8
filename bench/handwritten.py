"""What a user would write by hand instead of SalesPulse (scripts/bench.sh): read the CRM
topic with confluent-kafka, parse each event with orjson, and sum won revenue in 1 h windows
per (region, rep) in a dict. No dedupe, no lateness, no state, no outputs, no exactly-once:
a loop, as a floor for what the convenience costs. Amounts are summed in the currency they
came in (a real one would convert them).

    python3 bench/handwritten.py BOOTSTRAP TOPIC PARTITIONS EVENTS

Prints: events=N seconds_from_first=S cpu_seconds=C windows=W
"""
import resource
import sys
import time
from datetime import datetime

import orjson
from confluent_kafka import Consumer, TopicPartition

bootstrap, topic, partitions, expected = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": f"handwritten-{time.time_ns()}",
    "enable.auto.commit": False,
})
consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])

windows = {}
events = 0
first = None
while events < expected:
    batch = consumer.consume(num_messages=10000, timeout=1.0)
    if not batch:
        continue
    if first is None:
        first = time.monotonic()
    for m in batch:
        if m.error():
            continue
        events += 1
        e = orjson.loads(m.value())
        if e.get("type") != "deal.won":
            continue
        hour = int(datetime.fromisoformat(e["occurred_at"]).timestamp()) // 3600
        key = (e["region"], e.get("rep_id"), hour)
        # Exact cents from the decimal string, as money should be.
        whole, _, frac = e["amount"].partition(".")
        windows[key] = windows.get(key, 0) + int(whole) * 100 + int((frac + "00")[:2])
end = time.monotonic()
usage = resource.getrusage(resource.RUSAGE_SELF)
consumer.close()
print(f"events={events} seconds_from_first={end - first:.3f} cpu_seconds={usage.ru_utime + usage.ru_stime:.2f} windows={len(windows)}")
