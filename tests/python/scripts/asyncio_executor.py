import asyncio
import concurrent.futures


async def main():
    loop = asyncio.get_running_loop()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = await asyncio.gather(*(loop.run_in_executor(pool, pow, 3, n) for n in range(4)))
    print(type(pool).__module__, results)


asyncio.run(main())
