"""A realistic, seeded demo data set: a French retail network, its catalogue and its stock.

`build_demo(seed, now=...)` is pure and fast enough to run at the start of every benchmark.
"""

from openoms.demo.build import DemoData, build_demo
from openoms.demo.channels import DemoChannel
from openoms.demo.stock import recount, write_snapshot_csv

__all__ = ["DemoChannel", "DemoData", "build_demo", "recount", "write_snapshot_csv"]
