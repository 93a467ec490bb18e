"""An initializer of __main__ sets a global that the tasks (also of __main__) read: both arrive
by value and share the worker's __main__ namespace, as with CPython's workers (with or without
cloudpickle)."""
import concurrent.futures as cf
def init(tag):
    global TAG
    TAG = tag
def tagged(x):
    return TAG + str(x)
if __name__ == '__main__':
    with cf.ProcessPoolExecutor(2, initializer=init, initargs=('t',)) as ex:
        print(list(ex.map(tagged, range(3))))
