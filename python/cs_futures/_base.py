"""Futures, executors and waiting, forwarded to the .NET engine (CPython: concurrent/futures/_base.py).

The classes are subclasses of the standard library's, and the exceptions and constants are the
standard library's own objects, so that ``isinstance`` checks and ``except`` clauses written for
``concurrent.futures`` keep working. The state of every future lives in the .NET engine.
"""
import functools
import time
from _thread import get_ident as _get_ident
from concurrent.futures import _base as _std

from . import _bridge

# The standard library's own objects: same identity, so existing code keeps working.
FIRST_COMPLETED = _std.FIRST_COMPLETED
FIRST_EXCEPTION = _std.FIRST_EXCEPTION
ALL_COMPLETED = _std.ALL_COMPLETED
_AS_COMPLETED = _std._AS_COMPLETED
PENDING = _std.PENDING
RUNNING = _std.RUNNING
CANCELLED = _std.CANCELLED
CANCELLED_AND_NOTIFIED = _std.CANCELLED_AND_NOTIFIED
FINISHED = _std.FINISHED
# _FUTURE_STATES is gone from 3.14's module; where it exists it is the same list object.
_FUTURE_STATES = getattr(_std, '_FUTURE_STATES', [PENDING, RUNNING, CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED])
_STATE_TO_DESCRIPTION_MAP = _std._STATE_TO_DESCRIPTION_MAP
LOGGER = _std.LOGGER
Error = _std.Error
CancelledError = _std.CancelledError
TimeoutError = _std.TimeoutError
InvalidStateError = _std.InvalidStateError
BrokenExecutor = _std.BrokenExecutor
DoneAndNotDoneFutures = _std.DoneAndNotDoneFutures

# The engine's FutureState and ReturnWhen values, by name from .NET (CsFutures.FutureState).
_FS = _bridge.FutureState
_STATE_INDEX = {PENDING: _FS.Pending, RUNNING: _FS.Running, CANCELLED: _FS.Cancelled,
                CANCELLED_AND_NOTIFIED: _FS.CancelledAndNotified, FINISHED: _FS.Finished}
_STATES = {value: state for state, value in _STATE_INDEX.items()}
# done() is one comparison: the engine numbers the done states after the others.
_FIRST_DONE_STATE = _FS.Cancelled
assert {v for v in _STATES if v >= _FIRST_DONE_STATE} == {
    _FS.Cancelled, _FS.CancelledAndNotified, _FS.Finished}, "FutureState order changed"
_RETURN_WHEN = {FIRST_COMPLETED: _bridge.ReturnWhen.FirstCompleted,
                FIRST_EXCEPTION: _bridge.ReturnWhen.FirstException,
                ALL_COMPLETED: _bridge.ReturnWhen.AllCompleted}
_RESULT = _bridge.Outcome.Result
_EXCEPTION = _bridge.Outcome.Exception

_outcome = _bridge.future_outcome
_state_of = _bridge.future_state
_wait_one = _bridge.future_wait
_wait = _bridge.wait
_PENDING = _bridge.PENDING
_RAISED = _bridge.RAISED
_CANCELLED = _bridge.CANCELLED
_FOREIGN = _bridge.FOREIGN
_monotonic = time.monotonic


def _refuse_after_fork():
    global _outcome, _state_of, _wait_one
    _outcome = _state_of = _wait_one = _bridge._refuse
    # The engine's C methods of FutureBase, shadowed on the class: they too would call into .NET.
    for name in ('done', 'running', 'cancelled', 'cancel', 'result', 'exception'):
        setattr(Future, name, _bridge._refuse)


_bridge.fork_hooks.append(_refuse_after_fork)


def _settled(future, which, timeout):
    """The future's result (which=_RESULT) or exception (_EXCEPTION), or a marker (raised, foreign),
    once it is done; CancelledError or TimeoutError as result() and exception() raise them."""
    handle = future._h
    value = _outcome(handle, which)
    if value is _PENDING:
        if _bridge.forked:
            _bridge.check_process()
        _wait(_wait_one, timeout, handle)
        condition = future.__dict__.get('_condition_')
        if condition is None:
            value = _outcome(handle, which)
        else:
            # Code that reaches into _condition (as CPython's tests do) may have set _state and then
            # _exception under it: read once it let go, as CPython's result() reads under the lock.
            with condition:
                value = _outcome(handle, which)
    if value is _PENDING:
        raise TimeoutError()
    if value is _CANCELLED:
        raise CancelledError()
    return value


def _invoke_callback(fn, future):
    try:
        fn(future)
    except Exception:
        LOGGER.exception('exception calling callback for %r', future)


class _Condition:
    """What code that reaches into ``future._condition`` needs: a lock for ``with``, and
    ``notify_all`` waking the threads blocked in ``result()`` or ``exception()``.

    The engine changes a future's state without this lock, where CPython's future changes it only
    under its condition. So that code holding the lock sees what CPython guarantees (the state does
    not change while the condition is held, as the standard library's ``wait`` and ``as_completed``
    rely on), the first ``_state`` that the holding thread reads is kept until it releases the lock,
    waits, or changes the state itself; ``_waiters.append`` uses it to tell a waiter about a future
    that finished after it was seen pending. Holds the future's handle, not the future (no cycle).
    """

    def __init__(self, handle):
        import threading
        self._h = handle
        self._lock = threading.RLock()
        self._owner = None  # the holding thread's ident
        self._depth = 0
        self._seen = None   # the state that the holding thread read first, or None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()

    def acquire(self, blocking=True, timeout=-1):
        """Acquire the lock, as RLock.acquire; returns True when acquired."""
        if not self._lock.acquire(blocking, timeout):
            return False
        if not self._depth:
            self._owner = _get_ident()
        self._depth += 1
        return True

    def release(self):
        """Release the lock, as RLock.release; the state kept for this thread is dropped at the
        outermost release."""
        if self._owner == _get_ident():
            self._depth -= 1
            if not self._depth:
                self._owner = self._seen = None
        self._lock.release()  # RuntimeError when not held by this thread, as RLock's

    def notify_all(self):
        _bridge.future_notify_all(self._h)

    notify = notify_all

    def wait(self, timeout=None):
        """Block until the future is done or ``timeout`` passes; True when done."""
        if self._owner == _get_ident():
            self._seen = None
        _wait(_wait_one, timeout, self._h)
        return _state_of(self._h) >= _FIRST_DONE_STATE


def _report(waiter, future):
    """Tell a standard library waiter that *future*, now finished or cancelled and notified, is done,
    as CPython's future does when it changes state."""
    state = _state_of(future._h)
    if state == _FS.CancelledAndNotified:
        waiter.add_cancelled(future)
    elif _outcome(future._h, _EXCEPTION) is not None:
        waiter.add_exception(future)
    else:
        waiter.add_result(future)


def _tell(waiter, future_ref):
    """The engine's call when a future with *waiter* installed is done (see _Waiters.append)."""
    future = future_ref()
    if future is not None:
        try:
            _report(waiter, future)
        except Exception:
            LOGGER.exception('exception telling waiter %r about %r', waiter, future)


class _Waiters:
    """``future._waiters`` for code that waits as the standard library's ``wait`` and
    ``as_completed`` do: ``append(waiter)`` under ``future._condition`` installs the waiter in the
    engine, which calls its ``add_result``, ``add_exception`` or ``add_cancelled`` once, when the
    future finishes or is cancelled and notified (not at a plain ``cancel()``); ``remove(waiter)``
    takes it off. A waiter appended after the appending thread saw the future not done is told
    exactly once, even when the engine finished the future in between; one appended after it saw
    the future done is never told, as in CPython. Holds a weak reference to the future."""

    __slots__ = ('_h', '_ref', '_entries')

    def __init__(self, future):
        import weakref
        self._h = future._h
        self._ref = weakref.ref(future)
        self._entries = []  # [waiter, handle of its engine waiter or None]

    def append(self, waiter):
        """Install *waiter*: the future calls its add_result, add_exception or add_cancelled once
        it finishes or is cancelled and notified, unless it was already done when this thread,
        holding the future's _condition, read its _state (then never, as in CPython)."""
        future = self._ref()
        condition = future.__dict__.get('_condition_')
        seen = condition._seen if condition is not None and condition._owner == _get_ident() else None
        handle = None
        if seen is not FINISHED and seen is not CANCELLED_AND_NOTIFIED:
            handle = _bridge.future_add_waiter(self._h, functools.partial(_tell, waiter, self._ref))
            if handle is None and seen is not None:
                _report(waiter, future)  # seen pending, done before the waiter could be installed
        self._entries.append((waiter, handle))

    def remove(self, waiter):
        """Take *waiter* off: it is not told afterwards.

        Raises:
            ValueError: If *waiter* was not appended (as list.remove).
        """
        for i, (appended, handle) in enumerate(self._entries):
            if appended is waiter or appended == waiter:
                del self._entries[i]
                if handle is not None:
                    _bridge.future_remove_waiter(self._h, handle)
                return
        raise ValueError('list.remove(x): x not in list')

    def _clear(self):
        entries, self._entries = self._entries, []
        for _, handle in entries:
            if handle is not None:
                _bridge.future_remove_waiter(self._h, handle)

    def __len__(self):
        return len(self._entries)

    def __iter__(self):
        return iter([waiter for waiter, _ in self._entries])

    def __contains__(self, waiter):
        return any(appended is waiter or appended == waiter for appended, _ in self._entries)

    def __repr__(self):
        return repr(list(self))


class Future(_bridge.FutureBase, _std.Future):
    """Represents the result of an asynchronous computation.

    ``done()``, ``running()``, ``cancelled()``, ``cancel()`` of a done future and
    ``result()``/``exception()`` of a finished future are C methods of the engine's ``FutureBase``
    (which keeps the handle, ``_h``); the other cases are ``_cancel_slow``, ``_result_slow`` and
    ``_exception_slow``.
    """

    def __init__(self):
        """Initializes the future. Should not be called by clients."""
        _bridge.check_process()
        self._h = _bridge.future_new()

    @classmethod
    def _from_handle(cls, handle):
        future = cls.__new__(cls)
        future._h = handle
        return future

    def __del__(self, _free=_bridge.handle_free, _bridge=_bridge):
        handle = self._h  # 0: none (never issued, or freed)
        if handle and not _bridge.forked:  # a forked child must not call into its copy of .NET
            waiters = self.__dict__.get('_waiters_')
            if waiters:
                waiters._clear()  # appended and never removed
            self._h = 0
            _free(handle, 1)

    def __copy__(self):
        """``copy.copy(future)``: another view of the same .NET future, with its own handle, so it
        keeps working when the original is dropped. It sees the original's completion (the
        standard library's copy is a snapshot that shares the condition; for a done future both
        give the same result)."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.__dict__.pop('_condition_', None)
        clone.__dict__.pop('_waiters_', None)
        clone._h = _bridge.handle_copy(self._h)
        return clone

    def __reduce_ex__(self, protocol):
        """Futures cannot be pickled (nor deep-copied), as with the standard library: the same
        TypeError, raised by the lock that the standard library's Future holds."""
        import threading
        return threading.RLock().__reduce_ex__(protocol)

    def __repr__(self):
        state = self._state
        if state == FINISHED:
            exception = _outcome(self._h, _EXCEPTION)
            if exception:
                return '<%s at %#x state=%s raised %s>' % (
                    self.__class__.__name__, id(self), _STATE_TO_DESCRIPTION_MAP[state],
                    exception.__class__.__name__)
            return '<%s at %#x state=%s returned %s>' % (
                self.__class__.__name__, id(self), _STATE_TO_DESCRIPTION_MAP[state],
                self._result.__class__.__name__)
        return '<%s at %#x state=%s>' % (
            self.__class__.__name__, id(self), _STATE_TO_DESCRIPTION_MAP[state])

    def cancel(self):
        """Cancel the future if possible.

        Returns True if the future was cancelled, False otherwise. A future
        cannot be cancelled if it is running or has already completed.
        """
        self._forget_seen()
        return _bridge.future_cancel(self._h) == 1

    def add_done_callback(self, fn):
        """Attaches a callable that will be called when the future finishes.

        Args:
            fn: A callable that will be called with this future as its only
                argument when the future completes or is cancelled. The callable
                will always be called by a thread in the same process in which
                it was added. If the future has already completed or been
                cancelled then the callable will be called immediately. These
                callables are called in the order that they were added.
        """
        _bridge.future_add_done_callback(self._h, functools.partial(_invoke_callback, fn, self))

    def result(self, timeout=None):
        """result() where FutureBase's C method leaves it to Python (its docstring is the stdlib's): a
        cancelled or raised future, a .NET value, a timeout that passed, other arguments, a future whose
        _condition was used."""
        value = _settled(self, _RESULT, timeout)
        if value is _RAISED:
            try:
                raise self.exception(0)
            finally:
                self = None
        if value is _FOREIGN:
            return _bridge.clr_bridge().ResultOf(self._h)
        return value

    def exception(self, timeout=None):
        """exception() where FutureBase's C method leaves it to Python, as result() above."""
        value = _settled(self, _EXCEPTION, timeout)
        if value is _FOREIGN:
            return _bridge.clr_bridge().ExceptionOf(self._h)
        return value

    # FutureBase's C methods wait for a pending future and answer for a finished (or, cancel(), a done)
    # one, and call these (by these names) for the rest; named result, exception and cancel, so that their
    # errors and tracebacks read as CPython's.
    _result_slow = result
    _exception_slow = exception
    _cancel_slow = cancel
    del result, exception, cancel

    # The remaining methods are for executors and unit tests.

    def set_running_or_notify_cancel(self):
        """Mark the future as running or process any cancel notifications.

        Should only be used by Executor implementations and unit tests.

        If the future has been cancelled (cancel() was called and returned
        True) then any threads waiting on the future completing (though calls
        to as_completed() or wait()) are notified and False is returned.

        If the future was not cancelled then it is put in the running state
        (future calls to running() will return True) and True is returned.

        This method should be called by Executor implementations before
        executing the work associated with this future. If this method returns
        False then the work should not be executed.

        Returns:
            False if the Future was cancelled, True otherwise.

        Raises:
            RuntimeError: if this method was already called or if set_result()
                or set_exception() was called.
        """
        self._forget_seen()
        return _bridge.future_set_running_or_notify_cancel(self._h) == 1

    def set_result(self, result):
        """Sets the return value of work associated with the future.

        Should only be used by Executor implementations and unit tests.
        """
        self._set(_RESULT, result)

    def set_exception(self, exception):
        """Sets the result of the future as being the given exception.

        Should only be used by Executor implementations and unit tests.
        """
        self._set(_EXCEPTION, exception)

    def _set(self, which, value):
        """set_result (_RESULT) or set_exception (_EXCEPTION); InvalidStateError with CPython's message."""
        self._forget_seen()
        try:
            _bridge.future_set(self._h, which, value)
        except InvalidStateError:
            raise InvalidStateError('{}: {!r}'.format(self._state, self)) from None

    # CPython's attributes, for code that reads or writes them directly.

    @property
    def _state(self):
        condition = self.__dict__.get('_condition_')
        if condition is not None and condition._owner == _get_ident():
            # Held by this thread: the state it saw first stands until it lets go (see _Condition).
            seen = condition._seen
            if seen is None:
                seen = condition._seen = self._current_state()
            return seen
        return self._current_state()

    @_state.setter
    def _state(self, state):
        self._forget_seen()
        _bridge.future_force(self._h, _bridge.ForceField.State, _STATE_INDEX[state], None)

    def _current_state(self):
        """The engine's state now, as one of CPython's state constants."""
        return _STATES[_state_of(self._h)]

    def _forget_seen(self):
        """This thread changes the state: a state it kept while holding _condition is out of date."""
        condition = self.__dict__.get('_condition_')
        if condition is not None and condition._owner == _get_ident():
            condition._seen = None

    @property
    def _result(self):
        value = _outcome(self._h, _RESULT)
        if value is _FOREIGN:
            return self.result(0)
        return None if value in (_PENDING, _RAISED, _CANCELLED) else value

    @_result.setter
    def _result(self, value):
        _bridge.future_force(self._h, _bridge.ForceField.Result, 0, value)

    @property
    def _exception(self):
        value = _outcome(self._h, _EXCEPTION)
        if value is _FOREIGN:
            return self.exception(0)
        return None if value in (_PENDING, _CANCELLED) else value

    @_exception.setter
    def _exception(self, value):
        _bridge.future_force(self._h, _bridge.ForceField.Exception, 0, value)

    @property
    def _condition(self):
        condition = self.__dict__.get('_condition_')
        if condition is None:
            condition = self.__dict__.setdefault('_condition_', _Condition(self._h))
            self._has_condition = True  # result() and exception() then wait in Python (_settled)
        return condition

    @property
    def _waiters(self):
        waiters = self.__dict__.get('_waiters_')
        if waiters is None:
            waiters = self.__dict__.setdefault('_waiters_', _Waiters(self))
        return waiters

    __class_getitem__ = classmethod(_std.Future.__class_getitem__.__func__)


def _result_or_cancel(fut, timeout=None):
    try:
        try:
            return fut.result(timeout)
        finally:
            fut.cancel()
    finally:
        # Break a reference cycle with the exception in self._exception
        del fut


class Executor(_std.Executor):
    """This is an abstract base class for concrete asynchronous executors."""

    def submit(self, fn, /, *args, **kwargs):
        """Submits a callable to be executed with the given arguments.

        Schedules the callable to be executed as fn(*args, **kwargs) and returns
        a Future instance representing the execution of the callable.

        Returns:
            A Future representing the given call.
        """
        raise NotImplementedError()

    def map(self, fn, *iterables, timeout=None, chunksize=1, buffersize=None):
        """Returns an iterator equivalent to map(fn, iter).

        Args:
            fn: A callable that will take as many arguments as there are
                passed iterables.
            timeout: The maximum number of seconds to wait. If None, then there
                is no limit on the wait time.
            chunksize: The size of the chunks the iterable will be broken into
                before being passed to a child process. This argument is only
                used by ProcessPoolExecutor; it is ignored by
                ThreadPoolExecutor.
            buffersize: The number of submitted tasks whose results have not
                yet been yielded. If the buffer is full, iteration over the
                iterables pauses until a result is yielded from the buffer.
                If None, all input elements are eagerly collected, and a task is
                submitted for each.

        Returns:
            An iterator equivalent to: map(func, *iterables) but the calls may
            be evaluated out-of-order.

        Raises:
            TimeoutError: If the entire result iterator could not be generated
                before the given timeout.
            Exception: If fn(*args) raises for any values.
        """
        import collections
        import itertools
        import weakref

        if buffersize is not None and not isinstance(buffersize, int):
            raise TypeError("buffersize must be an integer or None")
        if buffersize is not None and buffersize < 1:
            raise ValueError(_bridge.MESSAGES["BuffersizeNotPositive"])

        if timeout is not None:
            end_time = timeout + time.monotonic()

        zipped_iterables = zip(*iterables)
        if buffersize:
            fs = collections.deque(
                self.submit(fn, *args) for args in itertools.islice(zipped_iterables, buffersize))
        else:
            fs = self._submit_each(fn, zipped_iterables)

        # Use a weak reference to ensure that the executor can be garbage
        # collected independently of the result_iterator closure.
        executor_weakref = weakref.ref(self)

        # Yield must be hidden in closure so that the futures are submitted
        # before the first iterator value is required.
        def result_iterator():
            try:
                # reverse to keep finishing order
                fs.reverse()
                while fs:
                    if (
                        buffersize
                        and (executor := executor_weakref())
                        and (args := next(zipped_iterables, None))
                    ):
                        fs.appendleft(executor.submit(fn, *args))
                    # Careful not to keep a reference to the popped future
                    if timeout is None:
                        yield _result_or_cancel(fs.pop())
                    else:
                        yield _result_or_cancel(fs.pop(), end_time - time.monotonic())
            finally:
                for future in fs:
                    future.cancel()
        return result_iterator()

    def _submit_each(self, fn, arguments):
        """[self.submit(fn, *args) for args in arguments]: map's eager submits (an executor may do
        them faster, as long as they mean the same)."""
        return [self.submit(fn, *args) for args in arguments]

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Clean-up the resources associated with the Executor.

        It is safe to call this method several times. Otherwise, no other
        methods can be called after this one.

        Args:
            wait: If True then shutdown will not return until all running
                futures have finished executing and the resources used by the
                executor have been reclaimed.
            cancel_futures: If True then shutdown will cancel all pending
                futures. Futures that are completed or running will not be
                cancelled.
        """
        pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.shutdown(wait=True)
        return False


def _kind(fs):
    """True when every future is a cs_futures one, False when none is (futures of the standard
    library's executors), None for a mix."""
    ours = sum(isinstance(f, Future) for f in fs)
    if ours == len(fs):
        return True
    return False if ours == 0 else None


class _Relay:
    """A waiter in another future's ``_waiters`` (a standard library future's), installed as
    CPython's ``wait`` installs its own: it completes a cs_futures future that stands for that
    future when it finishes, fails, or is cancelled and notified, so that a mix of futures is
    waited on by the engine in one wait."""

    def __init__(self, theirs):
        self.theirs = theirs
        self.follower = Future()
        with theirs._condition:
            if theirs._state == FINISHED:
                self._finished(theirs)
            elif theirs._state == CANCELLED_AND_NOTIFIED:
                self.add_cancelled(theirs)
            else:
                theirs._waiters.append(self)

    def _finished(self, theirs):
        if theirs._exception is not None:
            self.add_exception(theirs)
        else:
            self.add_result(theirs)

    def add_result(self, future):
        self.follower.set_result(None)

    def add_exception(self, future):
        self.follower.set_exception(future._exception)

    def add_cancelled(self, future):
        self.follower.cancel()
        self.follower.set_running_or_notify_cancel()

    def remove(self):
        with self.theirs._condition:
            if self in self.theirs._waiters:
                self.theirs._waiters.remove(self)


def _followed(futures):
    """For a mix: the futures with each other future replaced by a cs_futures one that follows it,
    and the relays by follower (each to be removed once its future was yielded or the wait ends)."""
    theirs = [f for f in futures if not isinstance(f, Future)]
    for f in theirs:
        if not hasattr(f, "_waiters"):
            raise TypeError("wait() and as_completed() take futures, not %r" % type(f).__name__)
    relays = {relay.follower: relay for relay in map(_Relay, theirs)}
    return [f for f in futures if isinstance(f, Future)] + list(relays), relays


def _unfollowed(relays, follower):
    """The future that *follower* stands for (itself when it is a cs_futures future); its relay is removed."""
    relay = relays.pop(follower, None)
    if relay is None:
        return follower
    relay.remove()
    return relay.theirs


def wait(fs, timeout=None, return_when=ALL_COMPLETED):
    """Wait for the futures in the given sequence to complete.

    Args:
        fs: The sequence of Futures (possibly created by different Executors) to
            wait upon.
        timeout: The maximum number of seconds to wait. If None, then there
            is no limit on the wait time.
        return_when: Indicates when this function should return. The options
            are:

            FIRST_COMPLETED - Return when any future finishes or is
                              cancelled.
            FIRST_EXCEPTION - Return when any future finishes by raising an
                              exception. If no future raises an exception
                              then it is equivalent to ALL_COMPLETED.
            ALL_COMPLETED -   Return when all futures finish or are cancelled.

    Returns:
        A named 2-tuple of sets. The first set, named 'done', contains the
        futures that completed (is finished or cancelled) before the wait
        completed. The second set, named 'not_done', contains uncompleted
        futures. Duplicate futures given to *fs* are removed and will be
        returned only once.
    """
    fs = set(fs)
    if return_when not in _RETURN_WHEN:
        raise ValueError("Invalid return condition: %r" % return_when)
    if not fs:
        return DoneAndNotDoneFutures(set(), set())
    futures = list(fs)
    kind = _kind(futures)
    if kind is False:
        return _std.wait(fs, timeout, return_when)
    if kind is None:
        futures, relays = _followed(futures)
        try:
            done, not_done = wait(futures, timeout, return_when)
            return DoneAndNotDoneFutures({_unfollowed(relays, f) for f in done},
                                         {_unfollowed(relays, f) for f in not_done})
        finally:
            for relay in relays.values():
                relay.remove()
    _bridge.check_process()
    count = len(futures)
    mask = bytearray(count)  # one byte a future, filled by .NET
    # One waiter on the futures for the whole wait, however many slices it takes (as CPython);
    # None when the condition already holds (the mask is filled).
    cursor = _bridge.wait_new(_bridge.handles(futures), count, _RETURN_WHEN[return_when], mask)
    if cursor is not None:
        try:
            _wait(_bridge.wait_next, timeout, cursor, mask)
        finally:
            _bridge.handle_free(cursor, 0)
    done = {futures[i] for i in range(count) if mask[i]}
    return DoneAndNotDoneFutures(done, fs - done)


def _take(items, index):
    item = items[index]
    items[index] = None
    return item


def as_completed(fs, timeout=None):
    """An iterator over the given futures that yields each as it completes.

    Args:
        fs: The sequence of Futures (possibly created by different Executors) to
            iterate over.
        timeout: The maximum number of seconds to wait. If None, then there
            is no limit on the wait time.

    Returns:
        An iterator that yields the given Futures as they complete (finished or
        cancelled). If any given Futures are duplicated, they will be returned
        once.

    Raises:
        TimeoutError: If the entire result iterator could not be generated
            before the given timeout.
    """
    if timeout is not None:
        end_time = timeout + _monotonic()

    futures = list(set(fs))
    kind = _kind(futures)
    if kind is False:
        yield from _std.as_completed(futures, timeout)
        return
    if kind is None:
        del fs
        futures, relays = _followed(futures)
        followers = as_completed(futures, timeout)
        del futures  # the inner iteration holds the only reference, and forgets what it yields
        try:
            # Through map, so that this frame holds no future it yielded.
            yield from map(functools.partial(_unfollowed, relays), followers)
        finally:
            followers.close()
            for relay in relays.values():
                relay.remove()
        return
    del fs
    total = len(futures)
    if not total:
        return
    _bridge.check_process()
    cursor = _bridge.cursor_new(_bridge.handles(futures), total)
    yielded = 0
    exhausted = _bridge.Code.CursorExhausted
    cursor_next = _bridge.cursor_next
    failed = _bridge.Code.Failed
    try:
        while True:
            # A look first (with the GIL kept): the next finished future, without the slice loop;
            # the loop when none is (or to raise a failure).
            found = cursor_next(cursor, 0.0)
            if found == 0 or found == failed:
                found = _wait(cursor_next, None if timeout is None else end_time - _monotonic(), cursor)
            if found > 0:
                yielded += 1
                yield _take(futures, found - 1)  # keeps no reference to what was yielded
            elif found == exhausted:
                return
            else:
                raise TimeoutError('%d (of %d) futures unfinished' % (total - yielded, total))
    finally:
        _bridge.handle_free(cursor, 0)
