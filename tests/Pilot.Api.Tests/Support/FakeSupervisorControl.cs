using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Logging;

namespace Pilot.Api.Tests.Support;

/// <summary>A supervisor stand-in that records every command and publishes events on demand.</summary>
internal sealed class FakeSupervisorControl : ISupervisorControl
{
    private readonly ConcurrentDictionary<Channel<Event>, string?> _subscribers = new();
    private int _reloads;
    private int _environmentPuts;
    private bool _maintenance;

    public ConcurrentDictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, double> Metrics { get; } = new(StringComparer.Ordinal);
    /// <summary>Metric names the fake accepts; names ending in <c>_total</c> behave as counters.</summary>
    public ImmutableHashSet<string> KnownMetrics { get; set; } = ["jobs_done_total", "queue_depth"];
    public ImmutableArray<ConfigError> NextReloadErrors { get; set; } = [];
    public SupervisorSnapshot Status { get; set; } = new("0.1.0", false, [], []);
    public PilotConfig Config { get; set; } = new();

    public int Reloads => Volatile.Read(ref _reloads);
    public int EnvironmentPuts => Volatile.Read(ref _environmentPuts);
    public int Subscribers => _subscribers.Count;
    /// <summary>Completes when a subscription ends (the stream's client went away).</summary>
    public TaskCompletionSource Unsubscribed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void PutEnvironment(IReadOnlyDictionary<string, string> variables)
    {
        foreach (var (name, value) in variables)
        {
            Environment[name] = value;
        }
        Interlocked.Increment(ref _environmentPuts);
    }

    public async Task<ReloadResult> ReloadAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        if (!NextReloadErrors.IsEmpty)
        {
            return new ReloadResult(false, NextReloadErrors);
        }
        Interlocked.Increment(ref _reloads);
        return new ReloadResult(true, []);
    }

    public Task<bool> SetMaintenanceAsync(bool enabled, CancellationToken cancellationToken)
    {
        lock (_subscribers)
        {
            var updated = _maintenance != enabled;
            _maintenance = enabled;
            return Task.FromResult(updated);
        }
    }

    public MetricPutResult PutMetrics(IReadOnlyDictionary<string, double> values)
    {
        var errors = new List<string>();
        foreach (var (name, value) in values)
        {
            if (!KnownMetrics.Contains(name))
            {
                errors.Add($"unknown metric \"{name}\"");
            }
            else if (name.EndsWith("_total", StringComparison.Ordinal) && value < 0)
            {
                errors.Add($"counter \"{name}\" cannot be decreased (got {value})");
            }
        }
        if (errors.Count > 0)
        {
            return new MetricPutResult([.. errors]);
        }
        foreach (var (name, value) in values)
        {
            Metrics.AddOrUpdate(name, value, (_, old) => name.EndsWith("_total", StringComparison.Ordinal) ? old + value : value);
        }
        return MetricPutResult.Success;
    }

    public SupervisorSnapshot GetStatus() => Status;

    public PilotConfig GetConfig() => Config;

    public void Publish(Event e)
    {
        foreach (var channel in _subscribers.Keys)
        {
            channel.Writer.TryWrite(e);
        }
    }

    public ConcurrentQueue<(string Name, JobCommand Command)> JobCommands { get; } = new();
    /// <summary>The outcome of the next job commands for jobs listed in <see cref="Status"/>.</summary>
    public JobCommandOutcome JobCommandOutcome { get; set; } = JobCommandOutcome.Done;

    public Task<JobCommandResult> ControlJobAsync(string name, JobCommand command, CancellationToken cancellationToken)
    {
        JobCommands.Enqueue((name, command));
        var job = Status.Jobs.FirstOrDefault(j => j.Name == name);
        return Task.FromResult(job is null ? new JobCommandResult(JobCommandOutcome.NotFound, null) : new JobCommandResult(JobCommandOutcome, job));
    }

    private readonly List<RecordedLine> _output = [];
    private readonly List<Channel<RecordedLine>> _outputFollowers = [];

    /// <summary>Adds a line of output as a job would write it; followers of that job see it.</summary>
    public void WriteOutput(string source, string text, int pid = 42, bool isStdErr = false)
    {
        lock (_output)
        {
            var line = new RecordedLine(_output.Count + 1, DateTimeOffset.UnixEpoch.AddSeconds(_output.Count), source, pid, isStdErr, text);
            _output.Add(line);
            foreach (var follower in _outputFollowers)
            {
                follower.Writer.TryWrite(line);
            }
        }
    }

    public IReadOnlyList<RecordedLine> GetJobOutput(string name, int lines)
    {
        lock (_output)
        {
            return [.. _output.Where(l => l.Source == name || l.Source == "check." + name).TakeLast(lines)];
        }
    }

    public async IAsyncEnumerable<RecordedLine> FollowJobOutput(string name, int lines, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<RecordedLine>();
        IReadOnlyList<RecordedLine> tail;
        lock (_output)
        {
            tail = GetJobOutput(name, lines);
            _outputFollowers.Add(channel);
        }
        try
        {
            foreach (var line in tail)
            {
                yield return line;
            }
            await foreach (var line in channel.Reader.ReadAllAsync(cancellationToken))
            {
                if (line.Source == name || line.Source == "check." + name)
                {
                    yield return line;
                }
            }
        }
        finally
        {
            lock (_output)
            {
                _outputFollowers.Remove(channel);
            }
        }
    }

    public async IAsyncEnumerable<Event> WatchEvents(string? source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<Event>();
        _subscribers[channel] = source;
        try
        {
            await foreach (var e in channel.Reader.ReadAllAsync(cancellationToken))
            {
                if (source is null || e.Source == source)
                {
                    yield return e;
                }
            }
        }
        finally
        {
            _subscribers.TryRemove(channel, out _);
            Unsubscribed.TrySetResult();
        }
    }
}
