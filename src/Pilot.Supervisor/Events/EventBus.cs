using System.Collections.Immutable;
using System.Threading.Channels;

namespace Pilot.Supervisor.Events;

/// <summary>
/// The one event bus. Publishing never blocks: events go through a single dispatcher that hands each one to every
/// subscriber in the same order. Observers (metrics, event streams, the debug log) are called first, synchronously,
/// and must be quick; then each subscriber's delivery is awaited, so a subscriber with a full mailbox holds the
/// dispatcher (back-pressure, no loss; a job's mailbox takes 1000 events, as v3).
/// </summary>
/// <remarks>
/// A subscriber may name the sources it listens to: it then gets only their events, and those of every subscriber that
/// names it (a job waits for its pre-stop jobs, which name it as their source). So a health check's result, which
/// concerns nobody but the job, reaches no mailbox at all, instead of every job's (v3 hands every event to every job;
/// a job ignores those that are not its business, so what each job does is the same). The routes (source → subscribers,
/// in subscription order) are rebuilt by the dispatcher after the subscribers change (start-up, reload).
/// </remarks>
public sealed class EventBus : IAsyncDisposable
{
    public const int SubscriberCapacity = 1000;

    // A marker (Flushed set) completes once everything published before it has been handed out.
    private readonly Channel<(long Sequence, Event Event, TaskCompletionSource? Flushed)> _inbox =
        Channel.CreateUnbounded<(long, Event, TaskCompletionSource?)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly Task _dispatcher;
    private ImmutableList<Subscription> _subscribers = ImmutableList<Subscription>.Empty;
    // Only the dispatcher reads or writes it; rebuilt when _subscribers is no longer the list it was built from.
    private Routes _routes = Routes.Build(ImmutableList<Subscription>.Empty);
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
    public Subscription Subscribe(string name, Func<Event, ValueTask> deliver) => Subscribe(name, sources: null, deliver);

    /// <summary>
    /// The same for the events of <paramref name="sources"/> only (null: every event), and of every subscriber that
    /// names <paramref name="name"/> among its own sources.
    /// </summary>
    public Subscription Subscribe(string name, IReadOnlySet<string>? sources, Func<Event, ValueTask> deliver)
    {
        lock (_gate)
        {
            var subscription = new Subscription(this, name, sources, startAfter: _published, deliver);
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
            var subscribers = _subscribers;
            if (!ReferenceEquals(_routes.From, subscribers))
            {
                _routes = Routes.Build(subscribers);
            }
            foreach (var subscriber in _routes.For(e.Source))
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

    /// <summary>Who gets an event from each source, built from one list of subscribers.</summary>
    private sealed class Routes
    {
        private readonly Dictionary<string, Subscription[]> _bySource;
        // Subscribers of every event: all an event from a source nobody names goes to.
        private readonly Subscription[] _everything;

        private Routes(ImmutableList<Subscription> from, Dictionary<string, Subscription[]> bySource, Subscription[] everything)
        {
            From = from;
            _bySource = bySource;
            _everything = everything;
        }

        public ImmutableList<Subscription> From { get; }

        public Subscription[] For(string source) => _bySource.GetValueOrDefault(source) ?? _everything;

        public static Routes Build(ImmutableList<Subscription> subscribers)
        {
            var named = new Dictionary<string, HashSet<Subscription>>(StringComparer.Ordinal);
            var byName = subscribers.ToLookup(s => s.Name, StringComparer.Ordinal);
            foreach (var subscriber in subscribers)
            {
                foreach (var source in subscriber.Sources ?? (IEnumerable<string>)[])
                {
                    Add(source, subscriber);
                    // Whoever this subscriber names also hears it.
                    foreach (var listened in byName[source])
                    {
                        Add(subscriber.Name, listened);
                    }
                }
            }
            var everything = subscribers.Where(s => s.Sources is null).ToArray();
            var position = new Dictionary<Subscription, int>(subscribers.Count);
            foreach (var subscriber in subscribers)
            {
                position[subscriber] = position.Count;
            }
            var bySource = new Dictionary<string, Subscription[]>(named.Count, StringComparer.Ordinal);
            foreach (var (source, set) in named)
            {
                set.UnionWith(everything);
                // In subscription order, as the list: each event reaches its subscribers in the order they came.
                bySource[source] = [.. set.OrderBy(s => position[s])];
            }
            return new Routes(subscribers, bySource, everything);

            void Add(string source, Subscription subscriber)
            {
                if (!named.TryGetValue(source, out var set))
                {
                    named[source] = set = [];
                }
                set.Add(subscriber);
            }
        }
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

    internal Subscription(EventBus bus, string name, IReadOnlySet<string>? sources, long startAfter, Func<Event, ValueTask> deliver)
    {
        _bus = bus;
        _deliver = deliver;
        Name = name;
        Sources = sources;
        StartAfter = startAfter;
    }

    /// <summary>The bus sequence number at subscription: only later events are delivered.</summary>
    internal long StartAfter { get; }

    public string Name { get; }

    /// <summary>The sources whose events this subscriber gets; null: every event.</summary>
    internal IReadOnlySet<string>? Sources { get; }

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
