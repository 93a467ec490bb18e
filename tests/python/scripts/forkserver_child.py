"""The 'forkserver' start method (Python 3.14's default on Linux): a child may use cs_futures even
though the parent imported it and loaded .NET at the top level."""
import multiprocessing as mp

import cs_futures


def child(queue):
    try:
        with cs_futures.ThreadPoolExecutor(1) as executor:
            queue.put(("ok", executor.submit(abs, -5).result(timeout=10)))
    except BaseException as exc:
        queue.put(("error", repr(exc)))


if __name__ == "__main__":
    mp.set_start_method("forkserver")
    with cs_futures.ThreadPoolExecutor(1) as executor:
        print("parent", executor.submit(abs, -3).result(timeout=10))
    queue = mp.Queue()
    process = mp.Process(target=child, args=(queue,))
    process.start()
    print("child", queue.get(timeout=30))
    process.join(30)
    print("exit", process.exitcode)
