using System.Collections.Immutable;
using System.Threading.Channels;

namespace Pilot.Supervisor.Events;

/// <summary>
/// The one event bus. Publishing never blocks: events go through a single dispatcher that hands each one to every
/// subscriber in the same order. Observers (metrics, event streams, the debug log) are called first, synchronously,
/// and must be quick; then each subscriber's delivery is awaited, so a subscriber with a full mailbox holds the
/// dispatcher (back-pressure, no loss; a job's mailbox takes 1000 events, as v3).
/// </summary>
public sealed class EventBus : IAsyncDisposable
{
    public const int SubscriberCapacity = 1000;

    // A marker (Flushed set) completes once everything published before it has been handed out.
    private readonly Channel<(long Sequence, Event Event, TaskCompletionSource? Flushed)> _inbox =
        Channel.CreateUnbounded<(long, Event, TaskCompletionSource?)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly Task _dispatcher;
    private ImmutableList<Subscription> _subscribers = ImmutableList<Subscription>.Empty;
    private ImmutableList<Action<Event>> _observers = ImmutableList<Action<Event>>.Empty;
    private long _published;

    public EventBus() => _dispatcher = Task.Run(DispatchAsync);

    public void Publish(Event e)
    {
        lock (_gate)
        {
            // Numbered and written under the lock so sequence order is inbox order.
            _inbox.Writer.TryWrite((++_published, e, null));
        }
    }

    /// <summary>
    /// Completes once every event published before this call has been handed to every subscriber (so an input posted to a
    /// job afterwards comes behind them in its mailbox).
    /// </summary>
    public Task FlushAsync()
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (!_inbox.Writer.TryWrite((0, default, flushed)))
            {
                flushed.TrySetResult();
            }
        }
        return flushed.Task;
    }

    /// <summary>
    /// Hands every event published after this call — and none published before it, even if the dispatcher has not
    /// handed those out yet (a job replaced on reload must not see its predecessor's exit) — to <paramref name="deliver"/>,
    /// one at a time. Disposing the result leaves the bus.
    /// </summary>
    public Subscription Subscribe(string name, Func<Event, ValueTask> deliver)
    {
        lock (_gate)
        {
            var subscription = new Subscription(this, name, startAfter: _published, deliver);
            ImmutableInterlocked.Update(ref _subscribers, list => list.Add(subscription));
            return subscription;
        }
    }

    /// <summary>A synchronous observer of every event; disposing the result removes it.</summary>
    public IDisposable Observe(Action<Event> observer)
    {
        ImmutableInterlocked.Update(ref _observers, list => list.Add(observer));
        return new Unsubscriber(() => ImmutableInterlocked.Update(ref _observers, list => list.Remove(observer)));
    }

    internal void Remove(Subscription subscription) =>
        ImmutableInterlocked.Update(ref _subscribers, list => list.Remove(subscription));

    private async Task DispatchAsync()
    {
        await foreach (var (sequence, e, flushed) in _inbox.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (flushed is not null)
            {
                flushed.TrySetResult();
                continue;
            }
            foreach (var observer in _observers)
            {
                try
                {
                    observer(e);
                }
                catch (Exception ex)
                {
                    // An observer must not stop the bus; report and go on.
                    Console.Error.WriteLine($"event observer failed on {e}: {ex.Message}");
                }
            }
            foreach (var subscriber in _subscribers)
            {
                if (sequence > subscriber.StartAfter)
                {
                    await subscriber.DeliverAsync(e).ConfigureAwait(false);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _inbox.Writer.TryComplete();
        await _dispatcher.ConfigureAwait(false);
    }

    private sealed class Unsubscriber(Action action) : IDisposable
    {
        private Action? _action = action;

        public void Dispose() => Interlocked.Exchange(ref _action, null)?.Invoke();
    }
}

/// <summary>One subscriber's place on the bus. Disposing it leaves the bus.</summary>
public sealed class Subscription : IDisposable
{
    private readonly EventBus _bus;
    private readonly Func<Event, ValueTask> _deliver;
    private int _disposed;

    internal Subscription(EventBus bus, string name, long startAfter, Func<Event, ValueTask> deliver)
    {
        _bus = bus;
        _deliver = deliver;
        Name = name;
        StartAfter = startAfter;
    }

    /// <summary>The bus sequence number at subscription: only later events are delivered.</summary>
    internal long StartAfter { get; }

    public string Name { get; }

    internal async ValueTask DeliverAsync(Event e)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }
        try
        {
            await _deliver(e).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A subscriber must not stop the bus; report and go on.
            Console.Error.WriteLine($"event subscriber {Name} failed on {e}: {ex.Message}");
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _bus.Remove(this);
        }
    }
}
