using System.Collections.Immutable;

namespace Pilot.ConsulTestAgent;

/// <summary>One health entry: a service instance with its node's and its own checks.</summary>
public sealed record HealthEntry(AgentService Service, ImmutableArray<AgentCheck> Checks);

/// <summary>The agent's catalog: services, checks, the Raft-like index, TTL timers and the reaper.</summary>
public sealed class AgentState : IDisposable
{
    private readonly Lock _lock = new();
    private readonly ConsulTestAgentOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, AgentService> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AgentCheck> _checks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ITimer> _ttlTimers = new(StringComparer.Ordinal);
    // Blocking queries on a service wait on that service's index; names are case-insensitive in Consul's catalog.
    private readonly Dictionary<string, ulong> _serviceIndex = new(StringComparer.OrdinalIgnoreCase);
    private readonly ITimer _reaper;
    private ulong _index = 10;
    private TaskCompletionSource _changed = NewSignal();

    public AgentState(ConsulTestAgentOptions options)
    {
        _options = options;
        _time = options.TimeProvider;
        _reaper = _time.CreateTimer(_ => Reap(), null, options.ReapInterval, options.ReapInterval);
    }

    public ConsulTestAgentOptions Options => _options;

    /// <summary>The latest index (every write raises it; it never goes back, even on <see cref="Clear"/>).</summary>
    public ulong Index
    {
        get { lock (_lock) { return _index; } }
    }

    /// <summary>Completes on the next change; used by blocking queries and test waits.</summary>
    public Task Changed
    {
        get { lock (_lock) { return _changed.Task; } }
    }

    public ImmutableArray<AgentService> Services
    {
        get { lock (_lock) { return [.. _services.Values.OrderBy(s => s.Id, StringComparer.Ordinal)]; } }
    }

    public ImmutableArray<AgentCheck> Checks
    {
        get { lock (_lock) { return [.. _checks.Values.OrderBy(c => c.CheckId, StringComparer.Ordinal)]; } }
    }

    public AgentService? GetService(string id)
    {
        lock (_lock) { return _services.GetValueOrDefault(id); }
    }

    public AgentCheck? GetCheck(string checkId)
    {
        lock (_lock) { return _checks.GetValueOrDefault(checkId); }
    }

    /// <summary>The node's own Serf check: always passing on a live agent.</summary>
    public AgentCheck SerfHealth => new()
    {
        CheckId = "serfHealth",
        Name = "Serf Health Status",
        Status = CheckStatus.Passing,
        Output = "Agent alive and reachable",
        Type = "",
        CreateIndex = 1,
        ModifyIndex = 1,
    };

    /// <summary>Adds or replaces a service and its checks (a re-registration resets the checks, as Consul does).</summary>
    public void Register(AgentService service, IReadOnlyList<AgentCheck> checks)
    {
        lock (_lock)
        {
            var index = ++_index;
            var created = _services.TryGetValue(service.Id, out var old) ? old.CreateIndex : index;
            RemoveChecksOfLocked(service.Id);
            _services[service.Id] = service with { CreateIndex = created, ModifyIndex = index };
            var now = _time.GetUtcNow();
            foreach (var check in checks)
            {
                var c = check with
                {
                    ServiceId = service.Id,
                    ServiceName = service.Name,
                    ServiceTags = service.Tags,
                    CreateIndex = index,
                    ModifyIndex = index,
                    CriticalSince = check.Status == CheckStatus.Critical ? now : null,
                    DeregisterAfter = check.DeregisterAfter is { } d && d < _options.MinimumDeregisterCriticalServiceAfter
                        ? _options.MinimumDeregisterCriticalServiceAfter : check.DeregisterAfter,
                };
                _checks[c.CheckId] = c;
                if (c.Ttl is { } ttl)
                {
                    var id = c.CheckId;
                    _ttlTimers[id] = _time.CreateTimer(_ => ExpireTtl(id), null, ttl, Timeout.InfiniteTimeSpan);
                }
            }
            if (old is not null && !string.Equals(old.Name, service.Name, StringComparison.OrdinalIgnoreCase))
            {
                _serviceIndex[old.Name] = index;
            }
            _serviceIndex[service.Name] = index;
            SignalLocked();
        }
    }

    /// <summary>Removes a service and its checks. False when the agent does not have it.</summary>
    public bool Deregister(string serviceId)
    {
        lock (_lock)
        {
            return DeregisterLocked(serviceId);
        }
    }

    public enum UpdateResult { Updated, UnknownCheck, NotTtl }

    /// <summary>A TTL update: sets the status and output and restarts the TTL.</summary>
    public UpdateResult UpdateTtl(string checkId, string status, string output)
    {
        lock (_lock)
        {
            if (!_checks.TryGetValue(checkId, out var check))
            {
                return UpdateResult.UnknownCheck;
            }
            if (check.Ttl is not { } ttl || !_ttlTimers.TryGetValue(checkId, out var timer))
            {
                return UpdateResult.NotTtl;
            }
            timer.Change(ttl, Timeout.InfiniteTimeSpan);
            SetStatusLocked(check, status, output);
            return UpdateResult.Updated;
        }
    }

    /// <summary>Test hook: sets any check's status directly (no TTL restart).</summary>
    public bool SetCheckStatus(string checkId, string status, string output = "")
    {
        lock (_lock)
        {
            if (!_checks.TryGetValue(checkId, out var check))
            {
                return false;
            }
            SetStatusLocked(check, status, output);
            return true;
        }
    }

    /// <summary>An agent restart that lost its state: everything goes, the index keeps rising.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            foreach (var id in _services.Keys.ToList())
            {
                DeregisterLocked(id);
            }
            foreach (var id in _checks.Keys.ToList())
            {
                RemoveCheckLocked(id);
            }
            ++_index;
            foreach (var name in _serviceIndex.Keys.ToList())
            {
                _serviceIndex[name] = _index;
            }
            SignalLocked();
        }
    }

    /// <summary>The index a blocking query on <paramref name="serviceName"/> reports (at least 1, as Consul guarantees).</summary>
    public ulong ServiceIndex(string serviceName)
    {
        lock (_lock)
        {
            return Math.Max(1, _serviceIndex.GetValueOrDefault(serviceName));
        }
    }

    /// <summary>Instances of a service with their checks (node check first), optionally filtered as the health endpoint does.</summary>
    public (ImmutableArray<HealthEntry> Entries, ulong Index) HealthService(string name, string? tag, bool passingOnly)
    {
        lock (_lock)
        {
            var serf = SerfHealth;
            var entries = _services.Values
                .Where(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
                .Where(s => tag is null || s.Tags.Contains(tag, StringComparer.OrdinalIgnoreCase))
                .OrderBy(s => s.Id, StringComparer.Ordinal)
                .Select(s => new HealthEntry(s, [serf, .. _checks.Values.Where(c => c.ServiceId == s.Id).OrderBy(c => c.CheckId, StringComparer.Ordinal)]))
                .Where(e => !passingOnly || e.Checks.All(c => c.Status == CheckStatus.Passing))
                .ToImmutableArray();
            return (entries, Math.Max(1, _serviceIndex.GetValueOrDefault(name)));
        }
    }

    /// <summary>
    /// Waits, as a Consul blocking query does, until the service's index passes <paramref name="minIndex"/> or
    /// <paramref name="wait"/> elapses. <paramref name="minIndex"/> 0 returns at once.
    /// </summary>
    public async Task WaitForServiceIndexAsync(string name, ulong minIndex, TimeSpan wait, CancellationToken ct)
    {
        if (minIndex == 0)
        {
            return;
        }
        var deadline = _time.GetUtcNow() + wait;
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (Math.Max(1, _serviceIndex.GetValueOrDefault(name)) > minIndex)
                {
                    return;
                }
                changed = _changed.Task;
            }
            var remaining = deadline - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var delay = Task.Delay(remaining, _time, cts.Token);
            var first = await Task.WhenAny(changed, delay).ConfigureAwait(false);
            await cts.CancelAsync().ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            if (first == delay)
            {
                return;
            }
        }
    }

    /// <summary>Runs one reaper pass now (the timer does this every <see cref="ConsulTestAgentOptions.ReapInterval"/>).</summary>
    public void Reap()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            var doomed = _checks.Values
                .Where(c => c.DeregisterAfter is { } after && c.Status == CheckStatus.Critical
                    && c.CriticalSince is { } since && now - since > after)
                .Select(c => c.ServiceId)
                .Where(id => id.Length > 0)
                .Distinct()
                .ToList();
            foreach (var id in doomed)
            {
                DeregisterLocked(id);
            }
        }
    }

    private void ExpireTtl(string checkId)
    {
        lock (_lock)
        {
            if (_checks.TryGetValue(checkId, out var check))
            {
                SetStatusLocked(check, CheckStatus.Critical, "TTL expired");
            }
        }
    }

    private void SetStatusLocked(AgentCheck check, string status, string output)
    {
        // Consul writes to the catalog only when the status changes; output-only changes are deferred, so
        // heartbeats that keep a check passing do not wake blocking queries.
        var statusChanged = check.Status != status;
        var updated = check with
        {
            Status = status,
            Output = output,
            CriticalSince = status == CheckStatus.Critical ? check.CriticalSince ?? _time.GetUtcNow() : null,
        };
        if (statusChanged)
        {
            var index = ++_index;
            updated = updated with { ModifyIndex = index };
            if (check.ServiceName.Length > 0)
            {
                _serviceIndex[check.ServiceName] = index;
            }
            _checks[check.CheckId] = updated;
            SignalLocked();
        }
        else
        {
            _checks[check.CheckId] = updated;
        }
    }

    private bool DeregisterLocked(string serviceId)
    {
        if (!_services.Remove(serviceId, out var service))
        {
            return false;
        }
        RemoveChecksOfLocked(serviceId);
        _serviceIndex[service.Name] = ++_index;
        SignalLocked();
        return true;
    }

    private void RemoveChecksOfLocked(string serviceId)
    {
        foreach (var id in _checks.Values.Where(c => c.ServiceId == serviceId).Select(c => c.CheckId).ToList())
        {
            RemoveCheckLocked(id);
        }
    }

    private void RemoveCheckLocked(string checkId)
    {
        _checks.Remove(checkId);
        if (_ttlTimers.Remove(checkId, out var timer))
        {
            timer.Dispose();
        }
    }

    private void SignalLocked()
    {
        var old = _changed;
        _changed = NewSignal();
        old.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose()
    {
        _reaper.Dispose();
        lock (_lock)
        {
            foreach (var t in _ttlTimers.Values)
            {
                t.Dispose();
            }
            _ttlTimers.Clear();
        }
    }
}
