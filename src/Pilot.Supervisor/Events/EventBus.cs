using System.Collections.Immutable;

using System.Threading.Channels;

namespace Pilot.Supervisor.Events;

/// <summary>
/// The one event bus. Publishing never blocks: events go through a single dispatcher that hands each one to every
/// subscriber in the same order. A job subscriber has a bounded mailbox (1000, as v3) and the dispatcher waits when it
/// is full (back-pressure, no loss); observers (metrics, event streams) are called synchronously and must be quick.
/// </summary>
public sealed class EventBus : IAsyncDisposable
{
    public const int SubscriberCapacity = 1000;

    private readonly Channel<(long Sequence, Event Event)> _inbox = Channel.CreateUnbounded<(long, Event)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly Task _dispatcher;
    private ImmutableList<Subscription> _subscribers = ImmutableList<Subscription>.Empty;
    private ImmutableList<Action<Event>> _observers = ImmutableList<Action<Event>>.Empty;
    private long _published;
    private long _delivered;
    private TaskCompletionSource _idle = NewIdleSignal(completed: true);

    public EventBus() => _dispatcher = Task.Run(DispatchAsync);

    /// <summary>Events published so far (for tests and telemetry).</summary>
    public long PublishedCount => Interlocked.Read(ref _published);

    public void Publish(Event e)
    {
        lock (_gate)
        {
            _published++;
            if (_idle.Task.IsCompleted)
            {
                _idle = NewIdleSignal(completed: false);
            }
            // Written under the lock so sequence order is inbox order.
            _inbox.Writer.TryWrite((_published, e));
        }
    }

    /// <summary>
    /// A mailbox receiving every event published after this call — and none published before it, even if the
    /// dispatcher has not handed those out yet (a job replaced on reload must not see its predecessor's exit).
    /// </summary>
    public Subscription Subscribe(string name)
    {
        lock (_gate)
        {
            var subscription = new Subscription(this, name, startAfter: _published);
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

    /// <summary>Completes once every event published so far has been handed to every subscriber.</summary>
    public Task WaitIdleAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }

    internal void Remove(Subscription subscription) =>
        ImmutableInterlocked.Update(ref _subscribers, list => list.Remove(subscription));

    private async Task DispatchAsync()
    {
        await foreach (var (sequence, e) in _inbox.Reader.ReadAllAsync().ConfigureAwait(false))
        {
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
            lock (_gate)
            {
                _delivered++;
                if (_delivered == _published)
                {
                    _idle.TrySetResult();
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _inbox.Writer.TryComplete();
        await _dispatcher.ConfigureAwait(false);
        foreach (var subscriber in _subscribers)
        {
            subscriber.Complete();
        }
    }

    private static TaskCompletionSource NewIdleSignal(bool completed)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            signal.SetResult();
        }
        return signal;
    }

    private sealed class Unsubscriber(Action action) : IDisposable
    {
        private Action? _action = action;

        public void Dispose() => Interlocked.Exchange(ref _action, null)?.Invoke();
    }
}

/// <summary>One subscriber's mailbox. Disposing it leaves the bus.</summary>
public sealed class Subscription : IDisposable
{
    private readonly EventBus _bus;
    private readonly Channel<Event> _mailbox = Channel.CreateBounded<Event>(
        new BoundedChannelOptions(EventBus.SubscriberCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private int _disposed;

    internal Subscription(EventBus bus, string name, long startAfter)
    {
        _bus = bus;
        Name = name;
        StartAfter = startAfter;
    }

    /// <summary>The bus sequence number at subscription: only later events are delivered.</summary>
    internal long StartAfter { get; }

    public string Name { get; }

    public ChannelReader<Event> Reader => _mailbox.Reader;

    private long _accepted;

    /// <summary>Events accepted into this mailbox so far (bus deliveries and posts).</summary>
    public long AcceptedCount => Interlocked.Read(ref _accepted);

    internal async ValueTask DeliverAsync(Event e)
    {
        try
        {
            Interlocked.Increment(ref _accepted);
            await _mailbox.Writer.WriteAsync(e).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The subscriber left while the event was in flight.
        }
    }

    internal void Complete() => _mailbox.Writer.TryComplete();

    /// <summary>Puts an event in this mailbox only (timers and other events a job sends itself, as v3's <c>job.Rx</c>).</summary>
    public void Post(Event e)
    {
        if (_mailbox.Writer.TryWrite(e))
        {
            Interlocked.Increment(ref _accepted);
        }
        else
        {
            _ = DeliverAsync(e).AsTask();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _bus.Remove(this);
            _mailbox.Writer.TryComplete();
        }
    }
}
