using System.Collections.Concurrent;
using Pilot.Supervisor.Events;

namespace Pilot.Supervisor.Tests.TestSupport;

/// <summary>Records every bus event in order and lets a test wait for one.</summary>
internal sealed class EventRecorder : IDisposable
{
    private readonly ConcurrentQueue<Event> _events = new();
    private readonly IDisposable _observer;
    private readonly SemaphoreSlim _arrived = new(0);

    public EventRecorder(EventBus bus) => _observer = bus.Observe(e =>
    {
        _events.Enqueue(e);
        _arrived.Release();
    });

    public IReadOnlyList<Event> Events => [.. _events];

    public int Count(Event e) => _events.Count(x => x == e);

    public async Task WaitForAsync(Event e, int occurrences = 1, double seconds = 10)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (Count(e) < occurrences)
        {
            try
            {
                await _arrived.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{e} x{occurrences} not seen within {seconds}s; saw: {string.Join(", ", _events)}");
            }
        }
    }

    public void Dispose()
    {
        _observer.Dispose();
        _arrived.Dispose();
    }
}
