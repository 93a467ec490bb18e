namespace Futures.Native.Tests;

/// <summary>The future's state machine under threads that race its transitions: it moves by
/// compare-and-swap, and listeners added while it completes are told exactly once.</summary>
public class FutureRaceTests
{
    private const int Rounds = 1000;

    [Test]
    public void OfTwoRacingSetResultsOneWinsAndItsResultStands()
    {
        for (int round = 0; round < Rounds; round++)
        {
            var f = new Future<int>();
            using var go = new Barrier(2);
            var won = new bool[2];
            var setters = Enumerable.Range(0, 2).Select(k => Waits.Start(() =>
            {
                go.SignalAndWait();
                try
                {
                    f.SetResult(k + 1);
                    won[k] = true;
                }
                catch (InvalidStateException)
                {
                }
            })).ToArray();
            Assert.That(setters.All(t => t.Join(Waits.Join)), Is.True, $"round {round} hung");
            Assert.That(won.Count(w => w), Is.EqualTo(1), $"round {round}: exactly one set_result succeeds");
            Assert.That(f.Result(TimeSpan.Zero), Is.EqualTo(won[0] ? 1 : 2), $"round {round}: the loser wrote nothing");
        }
    }

    [Test]
    public void CancelRacingTheWorkerAgreesWithTheOutcome()
    {
        for (int round = 0; round < Rounds; round++)
        {
            var f = new Future<int>();
            using var go = new Barrier(3);
            bool cancelled = false;
            DoneAndNotDone<Future<int>>? waited = null;
            var canceller = Waits.Start(() => { go.SignalAndWait(); cancelled = f.Cancel(); });
            var worker = Waits.Start(() =>
            {
                go.SignalAndWait();
                if (f.SetRunningOrNotifyCancel())
                {
                    f.SetResult(7);
                }
            });
            var waiter = Waits.Start(() =>
            {
                go.SignalAndWait();
                waited = CsFutures.Futures.Wait([f], Waits.Long);
            });
            Assert.That(canceller.Join(Waits.Join) && worker.Join(Waits.Join) && waiter.Join(Waits.Join), Is.True, $"round {round} hung");
            Assert.That(f.Cancelled(), Is.EqualTo(cancelled), $"round {round}: cancel() said {cancelled}");
            Assert.That(f.State, Is.EqualTo(cancelled ? FutureState.CancelledAndNotified : FutureState.Finished));
            if (!cancelled)
            {
                Assert.That(f.Result(TimeSpan.Zero), Is.EqualTo(7));
            }
            Assert.That(waited!.Done, Is.EquivalentTo(new[] { f }), $"round {round}: the wait was told");
        }
    }

    [Test]
    public void ListenersAddedAsTheFutureCompletesAreToldOnce()
    {
        for (int round = 0; round < Rounds; round++)
        {
            var f = new Future<int>();
            using var go = new Barrier(4);
            int calls = 0;
            int blockedResult = 0;
            bool waitedDone = false;
            var completer = Waits.Start(() => { go.SignalAndWait(); f.SetResult(5); });
            var adder = Waits.Start(() => { go.SignalAndWait(); f.AddDoneCallback(_ => Interlocked.Increment(ref calls)); });
            var blocked = Waits.Start(() => { go.SignalAndWait(); blockedResult = f.Result(Waits.Long); });
            var waiter = Waits.Start(() =>
            {
                go.SignalAndWait();
                waitedDone = CsFutures.Futures.Wait([f], Waits.Long, ReturnWhen.FirstCompleted).Done.Count == 1;
            });
            Assert.That(new[] { completer, adder, blocked, waiter }.All(t => t.Join(Waits.Join)), Is.True, $"round {round} hung");
            Assert.That(calls, Is.EqualTo(1), $"round {round}: the callback ran once");
            Assert.That(blockedResult, Is.EqualTo(5));
            Assert.That(waitedDone, Is.True);
            Assert.That(f.WaiterCount, Is.Zero, $"round {round}: a done future keeps no waiter");
        }
    }
}
