import concurrent.futures


def square(x):
    return x * x


pool = concurrent.futures.ProcessPoolExecutor(max_workers=2)
print(sorted(pool.map(square, range(6))))
pool.shutdown()
