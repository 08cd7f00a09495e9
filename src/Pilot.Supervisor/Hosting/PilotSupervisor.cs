using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Jobs;
using Pilot.Supervisor.Logging;
using Pilot.Supervisor.Processes;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Hosting;

/// <summary>Everything the supervisor is built from; the API host fills it in, tests swap the launcher and clock.</summary>
public sealed record PilotSupervisorOptions
{
    /// <summary>The config file, re-read on reload.</summary>
    public required string ConfigPath { get; init; }
    public required PilotConfig Config { get; init; }
    public IProcessLauncher? Launcher { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Builds the Consul registration of a job with a port; null = no discovery.</summary>
    public Func<JobConfig, PilotConfig, IServiceRegistration?>? ServiceRegistrations { get; init; }
    /// <summary>Where user metrics go; null = no telemetry metrics (every posted key is unknown).</summary>
    public IUserMetrics? UserMetrics { get; init; }
    /// <summary>Pilot's own metrics, fed from the bus and from job snapshots; null = none.</summary>
    public Telemetry.PilotMetrics? PilotMetrics { get; init; }
    /// <summary>Extra components with the supervisor's lifetime (watches, telemetry), started after the jobs.</summary>
    public ImmutableArray<ISupervisedComponent> Components { get; init; } = [];
    public string Version { get; init; } = "dev";
}

/// <summary>Receives user metric values posted to the control plane.</summary>
public interface IUserMetrics
{
    MetricPutResult Put(IReadOnlyDictionary<string, double> values);

    /// <summary>Applies a reloaded <c>telemetry.metrics</c>, keeping values of metrics that still exist.</summary>
    void Reconfigure(ImmutableArray<MetricConfig> metrics);
}

/// <summary>A part of Pilot that lives beside the jobs (watches, telemetry listener) and restarts on reload.</summary>
public interface ISupervisedComponent
{
    Task StartAsync(PilotConfig config, EventBus bus, CancellationToken cancellationToken);
    Task StopAsync(CancellationToken cancellationToken);
    ImmutableArray<WatchSnapshot> Watches => [];
}

/// <summary>
/// The supervisor: builds jobs from the config, runs them on one bus, handles signals, reload, maintenance and an
/// orderly shutdown, and decides Pilot's exit code. The control plane talks to it only through <see cref="ISupervisorControl"/>.
/// </summary>
public sealed class PilotSupervisor : ISupervisorControl, IAsyncDisposable
{
    private readonly PilotSupervisorOptions _options;
    private readonly IProcessLauncher _launcher;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ImmutableList<Job> _jobs = ImmutableList<Job>.Empty;
    private PilotConfig _config;
    private bool _maintenance;
    private bool _shuttingDown;
    private bool _reloading;
    // Start-up phases, so a shutdown that comes during start-up reaches every job (see StartAsync).
    private bool _starting;
    private bool _jobsSubscribed;
    private int _failedExitCode;

    public PilotSupervisor(PilotSupervisorOptions options, LogWriter log)
    {
        _options = options;
        _config = options.Config;
        _launcher = options.Launcher ?? throw new ArgumentException("a process launcher is required", nameof(options));
        _time = options.Time;
        Log = log;
        History = new OutputHistory(_config.Logging.KeepLines, _time);
        Bus = new EventBus();
        Bus.Observe(e => Log.Write(LogLevel.Debug, $"event: {e}"));
        if (options.PilotMetrics is { } metrics)
        {
            Bus.Observe(metrics.Observe);
        }
    }

    public EventBus Bus { get; }

    public LogWriter Log { get; }

    /// <summary>Recent output of every job and check, for <c>pilot logs</c>.</summary>
    public OutputHistory History { get; }

    public PilotConfig Config => _config;

    /// <summary>Completes with Pilot's exit code once everything has stopped.</summary>
    public Task<int> Completion => _exit.Task;

    /// <summary>
    /// Starts every job, then the components, then publishes <c>startup</c>. A shutdown requested before this starts
    /// no job; one requested while it runs is published once the jobs are subscribed, and Pilot does not finish
    /// before start-up has.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_shuttingDown)
            {
                return;
            }
            _starting = true;
        }
        try
        {
            await StartEverythingAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _starting = false;
            }
            CheckAllHalted();
        }
    }

    private async Task StartEverythingAsync(CancellationToken cancellationToken)
    {
        ProcessEnvironment.Set("CONTAINERPILOT_PID", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Log.Write(LogLevel.Debug, "loaded config: " + _config.LoadedJson);
        if (_config.Consul is null && _config.Jobs.Any(j => j.IsService))
        {
            Log.Write(LogLevel.Warn, "no consul configured: jobs with a port are not registered");
        }
        foreach (var warning in _config.Warnings)
        {
            Log.Write(LogLevel.Warn, "config: " + warning);
        }
        StartJobs(JobsOf(_config));
        bool shutdownMissed;
        lock (_gate)
        {
            _jobsSubscribed = true;
            shutdownMissed = _shuttingDown;
        }
        if (shutdownMissed)
        {
            // Requested after the check above and before the jobs subscribed: they have not seen it yet.
            Bus.Publish(Event.GlobalShutdown);
            return;
        }
        foreach (var component in _options.Components)
        {
            await component.StartAsync(_config, Bus, cancellationToken).ConfigureAwait(false);
        }
        Bus.Publish(Event.GlobalStartup);
    }

    /// <summary>The jobs the config runs: its own, plus the telemetry service job when telemetry is on.</summary>
    private static ImmutableArray<JobConfig> JobsOf(PilotConfig config)
    {
        if (config.Telemetry is not { } telemetry || config.Jobs.Any(j => j.Name == JobConfig.TelemetryJobName))
        {
            return config.Jobs;
        }
        var telemetryJob = new JobConfig
        {
            Name = JobConfig.TelemetryJobName,
            Port = telemetry.Port,
            Interfaces = telemetry.Interfaces,
            Tags = telemetry.Tags,
            Health = new HealthConfig { Interval = TimeSpan.FromSeconds(5), TtlSeconds = 15 },
        };
        return config.Jobs.Add(telemetryJob);
    }

    private void StartJobs(ImmutableArray<JobConfig> configs)
    {
        var runtime = new JobRuntime(Bus, _launcher, _time, Log) { DefaultStopGrace = StopWindow(_config), History = History };
        var created = new List<Job>();
        foreach (var jobConfig in configs)
        {
            // Jobs started by `stopping` of X make X wait for their `stopped` before it finishes stopping.
            var dependents = configs
                .Where(other => other.When.Trigger.Code == EventCode.Stopping && other.When.Trigger.Source == jobConfig.Name)
                .Select(other => other.Name);
            var service = jobConfig.IsService && _config.Consul is not null ? _options.ServiceRegistrations?.Invoke(jobConfig, _config) : null;
            var job = new Job(jobConfig, runtime, service, dependents);
            if (_options.PilotMetrics is { } metrics)
            {
                job.Changed += metrics.Observe;
            }
            _ = job.Completion.ContinueWith(_ => OnJobHalted(job), TaskScheduler.Default);
            created.Add(job);
        }
        lock (_gate)
        {
            _jobs = _jobs.AddRange(created);
        }
        foreach (var job in created)
        {
            job.Start();
        }
    }

    private void OnJobHalted(Job job)
    {
        // A job ending well later does not hide an earlier failure: the order jobs halt in is a race, the outcome is not.
        if (job.LastExit is { Success: false } exit)
        {
            Interlocked.Exchange(ref _failedExitCode, exit.Signal is { } sig ? 128 + sig : exit.ExitCode);
        }
        CheckAllHalted();
    }

    /// <summary>Pilot exits when every job has halted (v3), unless a reload is replacing them.</summary>
    private void CheckAllHalted()
    {
        lock (_gate)
        {
            if (_reloading || _starting || _jobs.Any(j => !j.Completion.IsCompleted))
            {
                return;
            }
        }
        _ = FinishAsync(_shuttingDown ? 0 : Volatile.Read(ref _failedExitCode));
    }

    private async Task FinishAsync(int exitCode)
    {
        if (_exit.Task.IsCompleted)
        {
            return;
        }
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), _time);
        foreach (var component in _options.Components.Reverse())
        {
            try
            {
                await component.StopAsync(stopTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.Write(LogLevel.Error, $"stopping {component.GetType().Name} failed: {ex.Message}");
            }
        }
        _exit.TrySetResult(exitCode);
    }

    /// <summary>
    /// SIGTERM/SIGINT: publish <c>shutdown</c>, let jobs stop (pre-stop and post-stop jobs still run), and exit as soon as
    /// all have stopped; when the global <c>stopTimeout</c> window ends, SIGKILL whatever remains.
    /// </summary>
    public async Task<int> ShutdownAsync()
    {
        bool first, publish;
        lock (_gate)
        {
            first = !_shuttingDown;
            _shuttingDown = true;
            // Before the jobs have subscribed, StartAsync publishes it (or starts nothing).
            publish = _jobsSubscribed;
        }
        if (first)
        {
            Log.Write(LogLevel.Info, "shutting down");
            if (publish)
            {
                Bus.Publish(Event.GlobalShutdown);
            }
            CheckAllHalted();
            _ = EnforceStopWindowAsync();
        }
        return await _exit.Task.ConfigureAwait(false);
    }

    private async Task EnforceStopWindowAsync()
    {
        try
        {
            await _exit.Task.WaitAsync(StopWindow(_config), _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Pilot exits only once the killed groups are gone, not just their leaders.
            await Task.WhenAll(_jobs.Where(j => !j.Completion.IsCompleted).Select(job =>
            {
                Log.Write(LogLevel.Info, $"killing processes for job \"{job.Name}\"");
                return job.KillProcessesAsync();
            })).ConfigureAwait(false);
            await FinishAsync(0).ConfigureAwait(false);
        }
    }

    /// <summary>v3: absent or 0 → 5 s; negative → no wait.</summary>
    private static TimeSpan StopWindow(PilotConfig config) =>
        config.StopTimeout < TimeSpan.Zero ? TimeSpan.Zero : config.StopTimeout;

    /// <summary>SIGHUP and SIGUSR2 become events; other forwardable signals go to every job's process groups.</summary>
    public void HandleSignal(int signal)
    {
        switch (signal)
        {
            case SignalNames.SIGTERM or SignalNames.SIGINT:
                _ = ShutdownAsync();
                break;
            case SignalNames.SIGHUP:
                Bus.Publish(new Event(EventCode.Signal, "SIGHUP"));
                break;
            case SignalNames.SIGUSR2:
                Bus.Publish(new Event(EventCode.Signal, "SIGUSR2"));
                break;
            case SignalNames.SIGUSR1:
                // v3 reopens a log file on SIGUSR1 and otherwise ignores it; it never reaches the jobs.
                if (!IsStandardStream(_config.Logging.Output))
                {
                    Log.Reopen();
                }
                break;
            default:
                foreach (var job in _jobs)
                {
                    job.Signal(signal);
                }
                break;
        }
    }

    private static bool IsStandardStream(string output) =>
        output.Equals("stdout", StringComparison.OrdinalIgnoreCase) || output.Equals("stderr", StringComparison.OrdinalIgnoreCase);

    public void PutEnvironment(IReadOnlyDictionary<string, string> variables)
    {
        foreach (var (name, value) in variables)
        {
            ProcessEnvironment.Set(name, value);
        }
    }

    /// <summary>Re-reads the config; invalid → nothing changes. Valid → only added, removed and changed jobs are touched.</summary>
    public async Task<ReloadResult> ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloadGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var result = ConfigLoader.LoadFile(_options.ConfigPath, ProcessEnvironment.Snapshot());
            if (!result.IsValid)
            {
                // v3's line (it then exited), then Pilot's: the running config stays.
                Log.Write(LogLevel.Error, "error initializing config: " + string.Join("; ", result.Errors));
                Log.Write(LogLevel.Error, "reload refused, keeping the running config: " + string.Join("; ", result.Errors));
                return new ReloadResult(false, result.Errors);
            }
            var next = result.Config!;
            // Matched by whole config, not by name: v3 does not require names to be unique.
            var unmatched = JobsOf(next).ToList();
            var stopping = new List<Job>();
            lock (_gate)
            {
                _reloading = true;
                foreach (var job in _jobs.Where(j => !j.Completion.IsCompleted))
                {
                    if (!unmatched.Remove(job.Config))
                    {
                        stopping.Add(job);
                    }
                }
            }
            foreach (var job in stopping)
            {
                job.RequestStop();
            }
            await Task.WhenAll(stopping.Select(j => j.Completion)).WaitAsync(StopWindow(_config) + TimeSpan.FromSeconds(5), _time, cancellationToken)
                .ConfigureAwait(false);
            foreach (var component in _options.Components)
            {
                await component.StopAsync(cancellationToken).ConfigureAwait(false);
            }
            ImmutableArray<JobConfig> toStart;
            lock (_gate)
            {
                var kept = _jobs.Where(j => !j.Completion.IsCompleted).ToList();
                _jobs = ImmutableList.CreateRange(kept);
                var missing = JobsOf(next).ToList();
                foreach (var job in kept)
                {
                    missing.Remove(job.Config);
                }
                toStart = [.. missing];
                _config = next;
            }
            Log.Reconfigure(next.Logging);
            Log.Write(LogLevel.Debug, "loaded config: " + next.LoadedJson);
            History.Resize(next.Logging.KeepLines);
            _options.UserMetrics?.Reconfigure(next.Telemetry?.Metrics ?? []);
            StartJobs(toStart);
            foreach (var component in _options.Components)
            {
                await component.StartAsync(next, Bus, cancellationToken).ConfigureAwait(false);
            }
            lock (_gate)
            {
                _reloading = false;
            }
            Bus.Publish(Event.GlobalStartup);
            Log.Write(LogLevel.Info, $"config reloaded: {stopping.Count} job(s) stopped, {toStart.Length} started");
            CheckAllHalted();
            return new ReloadResult(true, []);
        }
        finally
        {
            lock (_gate)
            {
                _reloading = false;
            }
            _reloadGate.Release();
        }
    }

    public Task<bool> SetMaintenanceAsync(bool enabled, CancellationToken cancellationToken)
    {
        bool changed;
        lock (_gate)
        {
            changed = _maintenance != enabled;
            _maintenance = enabled;
        }
        // v3 publishes on every request, changed or not: jobs with `each: enterMaintenance` run each time.
        Bus.Publish(new Event(enabled ? EventCode.EnterMaintenance : EventCode.ExitMaintenance, Event.GlobalSource));
        return Task.FromResult(changed);
    }

    public MetricPutResult PutMetrics(IReadOnlyDictionary<string, double> values)
    {
        if (_options.UserMetrics is not { } metrics)
        {
            return new MetricPutResult([.. values.Keys.Select(k => $"unknown metric '{k}': no telemetry.metrics are configured")]);
        }
        var result = metrics.Put(values);
        if (result.Ok)
        {
            foreach (var (key, value) in values)
            {
                Bus.Publish(new Event(EventCode.Metric, $"{key}|{value.ToString(CultureInfo.InvariantCulture)}"));
            }
        }
        return result;
    }

    public SupervisorSnapshot GetStatus()
    {
        ImmutableList<Job> jobs;
        bool maintenance;
        lock (_gate)
        {
            (jobs, maintenance) = (_jobs, _maintenance);
        }
        return new SupervisorSnapshot(
            _options.Version,
            maintenance,
            [.. jobs.Select(j => j.Snapshot)],
            [.. _options.Components.SelectMany(c => c.Watches)]);
    }

    public async IAsyncEnumerable<Event> WatchEvents(string? source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = Channel.CreateBounded<Event>(new BoundedChannelOptions(EventBus.SubscriberCapacity)
        {
            // A slow reader of the stream loses the oldest events; it never slows the bus.
            FullMode = BoundedChannelFullMode.DropOldest,
        });
        using var observer = Bus.Observe(e =>
        {
            if (source is null || e.Source == source)
            {
                stream.Writer.TryWrite(e);
            }
        });
        while (await stream.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (stream.Reader.TryRead(out var e))
            {
                yield return e;
            }
        }
    }

    public async Task<JobCommandResult> ControlJobAsync(string name, JobCommand command, CancellationToken cancellationToken)
    {
        Job? job;
        lock (_gate)
        {
            // After a reload a replaced job may still be listed beside its successor: the live one answers.
            job = _jobs.LastOrDefault(j => j.Name == name && !j.Completion.IsCompleted) ?? _jobs.LastOrDefault(j => j.Name == name);
        }
        if (job is null)
        {
            return new JobCommandResult(JobCommandOutcome.NotFound, null);
        }
        var outcome = await job.RunCommandAsync(command, cancellationToken).ConfigureAwait(false);
        return new JobCommandResult(outcome, job.Snapshot);
    }

    public IReadOnlyList<RecordedLine> GetJobOutput(string name, int lines) => History.Tail(name, lines);

    public IAsyncEnumerable<RecordedLine> FollowJobOutput(string name, int lines, CancellationToken cancellationToken) =>
        History.FollowAsync(name, lines, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Bus.DisposeAsync().ConfigureAwait(false);
        _reloadGate.Dispose();
    }
}
