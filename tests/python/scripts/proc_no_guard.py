"""No main guard: a function and a class of __main__ used by worker processes; the top level must
run exactly once (workers never re-run the main script). Run by test_process_pool."""
import os

from cs_futures import ProcessPoolExecutor

print("TOP", flush=True)

SCALE = 10


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def norm2(self):
        return self.x * self.x + self.y * self.y


def make_point(i):
    return Point(i, i * SCALE), os.getpid()


def norm2(point):
    return point.norm2()


pool = ProcessPoolExecutor(max_workers=2)
results = list(pool.map(make_point, range(4)))
points = [point for point, _ in results]
print("POINTS", [(p.x, p.y) for p in points])
print("ISINSTANCE", all(isinstance(p, Point) for p in points), all(type(p) is Point for p in points))
print("OTHER_PROCESS", all(worker != os.getpid() for _, worker in results))
print("NORMS", list(pool.map(norm2, [Point(3, 4), Point(1, 1)])))
print("METHOD", pool.submit(Point(5, 12).norm2).result(timeout=30))
pool.shutdown()
print("END", ProcessPoolExecutor.__module__)
