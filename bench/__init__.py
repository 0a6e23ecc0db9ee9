"""giftbot's benchmark suite (`make bench`, or `python -m bench [--quick]`): not tests.

It measures the figures docs/benchmarks.md explains and writes them to bench/results.json.
This package imports nothing on purpose: `python -m bench.rss` and `python -m bench.coldstart`
run as plain bot processes, and must not pay for SimCord or the harness.
"""
