import concurrent.futures
import sys

with concurrent.futures.ThreadPoolExecutor(1) as pool:
    pool.submit(print, "before exit", type(pool).__module__).result()
sys.exit(3)
