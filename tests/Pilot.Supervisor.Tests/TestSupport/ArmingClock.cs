using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Pilot.Supervisor.Tests.TestSupport;

/// <summary>
/// A fake clock that also tells when code under test arms a timer. Jobs arm some timers in async continuations that
/// settling the bus cannot see (the stop grace, a run timeout); a test waits for the arming before it moves the clock,
/// so a step cannot pass before the timer exists.
/// </summary>
internal sealed class ArmingClock : FakeTimeProvider
{
    private readonly ConcurrentQueue<TimeSpan> _armed = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ArmingClock(DateTimeOffset start)
        : base(start)
    {
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _armed.Enqueue(dueTime);
        Interlocked.Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return timer;
    }

    /// <summary>Waits until <paramref name="count"/> timers due after <paramref name="dueTime"/> have been created in all.</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime, int count = 1)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var changed = _changed.Task;
            if (_armed.Count(d => d == dueTime) >= count)
            {
                return;
            }
            try
            {
                await changed.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no timer of {dueTime} armed within 10 s; armed: {string.Join(", ", _armed)}");
            }
        }
    }
}
