using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Discovery;
using Pilot.Supervisor.Discovery.Consul;
using Pilot.Supervisor.Events;

namespace Pilot.Supervisor.Watches;

/// <summary>
/// Follows one <c>watches[]</c> entry with Consul blocking queries (<c>index</c> + <c>wait</c> = interval), so a
/// change is seen at once and <c>interval</c> is the longest gap between checks. Each answer is compared with
/// this watch's previous list by v3's rule (count, or Address/Port of the ID-sorted pairs); on a change it
/// publishes <c>{changed, watch.NAME}</c> then <c>{healthy|unhealthy, watch.NAME}</c>. State is per watch (v3
/// shared it per service name). Query errors: Warn log, state untouched, retry with backoff capped at the interval.
/// </summary>
public sealed class ServiceWatch : IAsyncDisposable
{
    private readonly ConsulClient _consul;
    private readonly Func<Event, ValueTask> _publish;
    private readonly Action<string, int>? _instancesChanged;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Backoff _backoff;
    private readonly Lock _lock = new();
    private ImmutableArray<HealthServiceEntry> _entries = [];
    private WatchSnapshot _snapshot;
    private CancellationTokenSource? _cts;
    private Task _loop = Task.CompletedTask;
    private ulong _index;

    /// <param name="config">Name (the Consul service), interval, tag, dc.</param>
    /// <param name="consul">The shared client.</param>
    /// <param name="publish">Receives the events in order (the lead wires it to the bus).</param>
    /// <param name="logger">Warns on query failures.</param>
    /// <param name="timeProvider">Drives backoff delays and snapshot times.</param>
    /// <param name="instancesChanged">(service name, passing instances) after every successful poll: the <c>containerpilot_watch_instances</c> gauge.</param>
    public ServiceWatch(
        WatchConfig config,
        ConsulClient consul,
        Func<Event, ValueTask> publish,
        ILogger logger,
        TimeProvider? timeProvider = null,
        Action<string, int>? instancesChanged = null)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        _consul = consul ?? throw new ArgumentNullException(nameof(consul));
        _publish = publish ?? throw new ArgumentNullException(nameof(publish));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _time = timeProvider ?? TimeProvider.System;
        _instancesChanged = instancesChanged;
        var interval = config.Interval > TimeSpan.Zero ? config.Interval : TimeSpan.FromSeconds(1);
        _backoff = new Backoff(TimeSpan.FromMilliseconds(Math.Min(1000, interval.TotalMilliseconds)), interval);
        _snapshot = new WatchSnapshot(config.Name, [], null);
    }

    public WatchConfig Config { get; }

    /// <summary>Event source: <c>watch.NAME</c>.</summary>
    public string Source => Config.Source;

    /// <summary>The passing instances at the last successful poll, for the status API.</summary>
    public WatchSnapshot Snapshot
    {
        get { lock (_lock) { return _snapshot; } }
    }

    /// <summary>Starts polling in the background (first query at once). Idempotent.</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (_cts is not null)
            {
                return;
            }
            _cts = new CancellationTokenSource();
            var token = _cts.Token;
            _loop = Task.Run(() => RunAsync(token), CancellationToken.None);
        }
    }

    /// <summary>Stops polling and waits for the loop to end.</summary>
    public async Task StopAsync()
    {
        CancellationTokenSource? cts;
        lock (_lock)
        {
            cts = _cts;
        }
        if (cts is null)
        {
            return;
        }
        await cts.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    /// <summary>The polling loop; returns when <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var started = _time.GetUtcNow();
                var changedIndex = await PollOnceAsync(cancellationToken).ConfigureAwait(false);
                failures = 0;
                // Consul's advice: a blocking query that returns at once with the same index must not spin.
                if (!changedIndex && _time.GetUtcNow() - started < TimeSpan.FromMilliseconds(50))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (ConsulException ex)
            {
                _logger.LogWarning("failed to query {Name}: {Error} [{Meta}]", Config.Name, ex.Message, "<nil>");
                try
                {
                    await Task.Delay(_backoff.Next(failures++), _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// One query (blocking once an index is known): updates state, gauge and snapshot, publishes events on a
    /// change. Returns whether Consul's index moved. Throws <see cref="ConsulException"/> on failure, with state untouched.
    /// </summary>
    public async Task<bool> PollOnceAsync(CancellationToken cancellationToken)
    {
        var index = _index;
        var result = await _consul.GetHealthyServiceAsync(Config.Name, Config.Tag, Config.Dc, index, Config.Interval, cancellationToken).ConfigureAwait(false);
        // Consul's rules for blocking clients: an index that goes backwards resets to 0; never block on 0.
        _index = result.Index < index ? 0 : result.Index;
        var entries = result.Value;
        _instancesChanged?.Invoke(Config.Name, entries.Length);
        bool changed;
        lock (_lock)
        {
            changed = HasChanged(_entries, entries);
            _entries = entries;
            _snapshot = new WatchSnapshot(
                Config.Name,
                [.. Sorted(entries).Select(e => new WatchInstance(e.ServiceId, e.EffectiveAddress, e.Port))],
                _time.GetUtcNow());
        }
        if (changed)
        {
            await PublishAsync(new Event(EventCode.StatusChanged, Source)).ConfigureAwait(false);
            await PublishAsync(new Event(entries.Length > 0 ? EventCode.StatusHealthy : EventCode.StatusUnhealthy, Source)).ConfigureAwait(false);
        }
        return _index != index;
    }

    /// <summary>v3's <c>compareForChange</c>: the count differs, or a pair of the ID-sorted lists differs in Address or Port.</summary>
    public static bool HasChanged(IReadOnlyList<HealthServiceEntry> previous, IReadOnlyList<HealthServiceEntry> current)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(current);
        if (previous.Count != current.Count)
        {
            return true;
        }
        var a = Sorted(previous);
        var b = Sorted(current);
        for (var i = 0; i < a.Count; i++)
        {
            if (a[i].Address != b[i].Address || a[i].Port != b[i].Port)
            {
                return true;
            }
        }
        return false;
    }

    private static List<HealthServiceEntry> Sorted(IEnumerable<HealthServiceEntry> entries) =>
        [.. entries.OrderBy(e => e.ServiceId, StringComparer.Ordinal).ThenBy(e => e.Node, StringComparer.Ordinal)];

    private async ValueTask PublishAsync(Event e)
    {
        try
        {
            await _publish(e).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogError(ex, "watch {Name}: publishing {Event} failed", Config.Name, e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        lock (_lock)
        {
            _cts?.Dispose();
        }
    }
}
