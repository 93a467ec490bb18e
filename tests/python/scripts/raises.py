import concurrent.futures


def fail():
    raise ValueError("from the task")


with concurrent.futures.ThreadPoolExecutor(1) as pool:
    pool.submit(fail).result()
