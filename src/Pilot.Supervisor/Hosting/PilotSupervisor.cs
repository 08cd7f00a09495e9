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
    /// <summary>Told when an accepted reload starts stopping the old config and when the new one is about to start.</summary>
    public Action<ReloadStage>? ReloadStages { get; init; }
}

/// <summary>The points of a reload where v3 stopped its control server and started a new one.</summary>
public enum ReloadStage
{
    /// <summary>The new config is valid; the old jobs are about to stop.</summary>
    Stopping,
    /// <summary>The new config is loaded; its jobs are about to start.</summary>
    Starting,
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
/// One loop owns the job list and the config: reloads (serialised, whoever asked) and the ends of jobs are requests to it,
/// so a reload is never cut short by its caller and the end of the last job is seen once.
/// </summary>
public sealed class PilotSupervisor : ISupervisorControl, IAsyncDisposable
{
    /// <summary>Beyond a job's stop budget: the SIGKILL wait, the output drain and the deregistration of a stopping job.</summary>
    private static readonly TimeSpan StopSlack = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ComponentStopLimit = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan KillAcknowledgeLimit = TimeSpan.FromSeconds(1);

    private readonly PilotSupervisorOptions _options;
    private readonly TimeProvider _time;
    private readonly JobRuntime _runtime;
    private readonly SupervisedComponents _components;
    private readonly Channel<SupervisorRequest> _requests = Channel.CreateUnbounded<SupervisorRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _disposing = new();
    // Jobs a reload stopped: their ends are Pilot's doing, not an outcome (touched by the loop only).
    private readonly HashSet<Job> _retired = [];
    private ImmutableList<Job> _jobs = ImmutableList<Job>.Empty;
    private PilotConfig _config;
    private bool _maintenance;
    private bool _shuttingDown;
    private bool _finishing;
    private int _failedExitCode;
    // The exit code of a shutdown a job's exit policy asked for (0 for a signal's).
    private int _shutdownExitCode;
    private int _disposed;
    private Task _loop = Task.CompletedTask;
    private Task _stopWindow = Task.CompletedTask;

    public PilotSupervisor(PilotSupervisorOptions options, LogWriter log)
    {
        _options = options;
        _config = options.Config;
        _time = options.Time;
        Log = log;
        History = new OutputHistory(_config.Logging.KeepLines, _time);
        Bus = new EventBus();
        Bus.Observe(e => Log.Write(LogLevel.Debug, $"event: {e}"));
        if (options.PilotMetrics is { } metrics)
        {
            Bus.Observe(metrics.Observe);
        }
        var launcher = options.Launcher ?? throw new ArgumentException("a process launcher is required", nameof(options));
        _runtime = new JobRuntime(Bus, launcher, _time, log)
        {
            GlobalStopTimeout = () => Volatile.Read(ref _config).StopTimeout,
            Halted = job => _requests.Writer.TryWrite(new JobHalted(job)),
            StopHooks = StopHooksOf,
            ShutdownRequested = BeginShutdown,
            History = History,
        };
        _components = new SupervisedComponents(options.Components, log);
    }

    public EventBus Bus { get; }

    public LogWriter Log { get; }

    /// <summary>Recent output of every job and check, for <c>pilot logs</c>.</summary>
    public OutputHistory History { get; }

    public PilotConfig Config => Volatile.Read(ref _config);

    /// <summary>Completes with Pilot's exit code once everything has stopped.</summary>
    public Task<int> Completion => _exit.Task;

    /// <summary>Starts every job, then the components, then publishes <c>startup</c>.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ProcessEnvironment.Set("CONTAINERPILOT_PID", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var config = Config;
        Log.Write(LogLevel.Debug, "loaded config: " + config.LoadedJson);
        if (config.Consul is null && config.Jobs.Any(j => j.IsService))
        {
            Log.Write(LogLevel.Warn, "no consul configured: jobs with a port are not registered");
        }
        foreach (var warning in config.Warnings)
        {
            Log.Write(LogLevel.Warn, "config: " + warning);
        }
        lock (_gate)
        {
            if (!_shuttingDown)
            {
                StartJobsLocked(JobsOf(config), config);
            }
        }
        await _components.StartAsync(config, Bus, cancellationToken).ConfigureAwait(false);
        Bus.Publish(Event.GlobalStartup);
        _loop = RunAsync();
        _requests.Writer.TryWrite(new CheckHalted());
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

    /// <summary>Creates and starts jobs; under the lock, so a job either starts before <c>shutdown</c> is published or not at all.</summary>
    private void StartJobsLocked(IEnumerable<JobConfig> configs, PilotConfig config)
    {
        var all = JobsOf(config);
        var ordered = config.ShutdownOrder == ShutdownOrder.Dependencies ? ShutdownOrdering.WaitsFor(all) : null;
        var created = new List<Job>();
        foreach (var jobConfig in configs)
        {
            // Jobs started by `stopping` of X make X wait for their `stopped` before it terminates its processes.
            var dependents = all
                .Where(other => other.When.Trigger.Code == EventCode.Stopping && other.When.Trigger.Source == jobConfig.Name)
                .Select(other => other.Name);
            var service = jobConfig.IsService && config.Consul is not null ? _options.ServiceRegistrations?.Invoke(jobConfig, config) : null;
            var job = new Job(jobConfig, _runtime, service, dependents, shutdownDependents: ordered?.GetValueOrDefault(jobConfig.Name));
            if (_options.PilotMetrics is { } metrics)
            {
                job.Changed += metrics.Observe;
            }
            created.Add(job);
        }
        _jobs = _jobs.AddRange(created);
        foreach (var job in created)
        {
            job.Start();
        }
    }

    private ImmutableList<Job> CurrentJobs()
    {
        lock (_gate)
        {
            return _jobs;
        }
    }

    private bool IsEnding()
    {
        lock (_gate)
        {
            return _shuttingDown || _finishing;
        }
    }

    private abstract record SupervisorRequest;

    private sealed record ReloadRequest(TaskCompletionSource<ReloadResult> Reply) : SupervisorRequest;

    private sealed record JobHalted(Job Job) : SupervisorRequest;

    private sealed record CheckHalted : SupervisorRequest;

    /// <summary>The supervisor's loop: one request at a time; after each, Pilot finishes if every job has halted.</summary>
    private async Task RunAsync()
    {
        await foreach (var request in _requests.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                switch (request)
                {
                    case ReloadRequest reload:
                        reload.Reply.TrySetResult(await ReloadCoreAsync().ConfigureAwait(false));
                        break;
                    case JobHalted halted:
                        RecordOutcome(halted.Job);
                        await ReleaseStopHooksAsync(halted.Job).ConfigureAwait(false);
                        break;
                    case CheckHalted:
                        break;
                }
                if (CurrentJobs().All(j => j.Snapshot.State == JobState.Completed))
                {
                    // Pilot exits when every job has halted (v3).
                    await FinishAsync().ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                Log.Write(LogLevel.Error, $"supervisor: internal error handling {request}: {ex.Message}");
                (request as ReloadRequest)?.Reply.TrySetResult(Refused("the reload failed: " + ex.Message));
            }
        }
    }

    /// <summary>A job ending badly sets Pilot's exit code; one ending well later does not hide it (the order jobs halt in is a race).</summary>
    private void RecordOutcome(Job job)
    {
        if (_retired.Remove(job))
        {
            return;
        }
        if (job.Snapshot.LastExitCode is { } code && code != 0)
        {
            Volatile.Write(ref _failedExitCode, code);
        }
    }

    /// <summary>
    /// The pre-stop jobs of <paramref name="name"/> that will run when it stops now, and that its stop waits for: jobs
    /// with an exec triggered by its <c>stopping</c> that are alive and armed (not stopped by an operator, not halting or halted).
    /// </summary>
    private ImmutableHashSet<string> StopHooksOf(string name) =>
        [.. CurrentJobs()
            .Where(j => j.Config.Exec is not null && j.Config.When.Trigger == new Event(EventCode.Stopping, name)
                && j.Snapshot.State is JobState.Idle or JobState.Waiting or JobState.Starting or JobState.Running or JobState.RestartQueued or JobState.Exited)
            .Select(j => j.Name)];

    /// <summary>
    /// A job halted for good and none of its name is left (a reload that replaces a job starts the successor first): its
    /// pre-stop and post-stop jobs can never be triggered again, so they halt, behind the job's last events.
    /// </summary>
    private async Task ReleaseStopHooksAsync(Job halted)
    {
        var jobs = CurrentJobs();
        if (jobs.Any(j => j.Name == halted.Name && j.Snapshot.State != JobState.Completed))
        {
            return;
        }
        var hooks = jobs.Where(j => j.Config.When.Trigger.Source == halted.Name
            && j.Config.When.Trigger.Code is EventCode.Stopping or EventCode.Stopped
            && j.Snapshot.State != JobState.Completed).ToList();
        if (hooks.Count == 0)
        {
            return;
        }
        // The hook must see the job's `stopping`/`stopped` (which may trigger it) before it learns the job is gone.
        await Bus.FlushAsync().ConfigureAwait(false);
        foreach (var hook in hooks)
        {
            hook.SourceHalted();
        }
    }

    /// <summary>Stops the components and completes <see cref="Completion"/>; the first call does it, later ones wait for it.</summary>
    private Task FinishAsync()
    {
        int exitCode;
        lock (_gate)
        {
            if (_finishing)
            {
                return _exit.Task;
            }
            _finishing = true;
            exitCode = _shuttingDown ? _shutdownExitCode : Volatile.Read(ref _failedExitCode);
        }
        return FinishCoreAsync(exitCode);
    }

    private async Task FinishCoreAsync(int exitCode)
    {
        using var limit = new CancellationTokenSource(ComponentStopLimit, _time);
        await _components.StopAsync(limit.Token).ConfigureAwait(false);
        _exit.TrySetResult(exitCode);
    }

    /// <summary>
    /// SIGTERM/SIGINT: publish <c>shutdown</c>, let jobs stop (pre-stop and post-stop jobs still run), and exit as soon as
    /// all have stopped; when the global <c>stopTimeout</c> window ends, SIGKILL whatever remains.
    /// </summary>
    public Task<int> ShutdownAsync()
    {
        BeginShutdown();
        return _exit.Task;
    }

    /// <summary>The first shutdown wins: its <paramref name="exitCode"/> is Pilot's (a job's exit policy gives its run's).</summary>
    private void BeginShutdown(int exitCode = 0)
    {
        lock (_gate)
        {
            if (_shuttingDown)
            {
                return;
            }
            _shuttingDown = true;
            _shutdownExitCode = exitCode;
            Log.Write(LogLevel.Info, "shutting down");
            Bus.Publish(Event.GlobalShutdown);
            _stopWindow = EnforceStopWindowAsync(_config.StopTimeout);
        }
        _requests.Writer.TryWrite(new CheckHalted());
    }

    private async Task EnforceStopWindowAsync(TimeSpan window)
    {
        try
        {
            await _exit.Task.WaitAsync(window, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var live = CurrentJobs().Where(j => j.Snapshot.State != JobState.Completed).ToList();
            try
            {
                await Task.WhenAll(live.Select(j => j.SendAsync(JobCommand.Kill))).WaitAsync(KillAcknowledgeLimit, _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.Write(LogLevel.Error, "shutdown: some jobs did not take SIGKILL in time");
            }
            // Pilot exits only once the killed groups are gone, not just their leaders (a run that already exited can leave members).
            await Task.WhenAll(live.Select(j => j.KillProcessesAsync())).ConfigureAwait(false);
            await FinishAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.Write(LogLevel.Error, $"shutdown: the stop window failed: {ex.Message}");
            await FinishAsync().ConfigureAwait(false);
        }
    }

    /// <summary>SIGHUP and SIGUSR2 become events; other forwardable signals go to every job's process groups.</summary>
    public void HandleSignal(int signal)
    {
        switch (signal)
        {
            case SignalNames.SIGTERM or SignalNames.SIGINT:
                BeginShutdown();
                break;
            case SignalNames.SIGHUP:
                Bus.Publish(new Event(EventCode.Signal, "SIGHUP"));
                break;
            case SignalNames.SIGUSR2:
                Bus.Publish(new Event(EventCode.Signal, "SIGUSR2"));
                break;
            case SignalNames.SIGUSR1:
                // v3 reopens a log file on SIGUSR1 and otherwise ignores it; it never reaches the jobs.
                if (!IsStandardStream(Config.Logging.Output))
                {
                    Log.Reopen();
                }
                break;
            default:
                foreach (var job in CurrentJobs())
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
            ProcessEnvironment.Put(name, value);
        }
    }

    /// <summary>
    /// Asks the supervisor's loop to reload and waits for the outcome. <paramref name="cancellationToken"/> ends only the
    /// wait: the reload itself goes on to the end, so a client that goes away never leaves it half done.
    /// </summary>
    public async Task<ReloadResult> ReloadAsync(CancellationToken cancellationToken)
    {
        var request = new ReloadRequest(new TaskCompletionSource<ReloadResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_requests.Writer.TryWrite(request))
        {
            return Refused("Pilot is stopping; the running config is kept");
        }
        return await request.Reply.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static ReloadResult Refused(string reason) => new(false, [new ConfigError("", reason)]);

    /// <summary>Re-reads the config; invalid → nothing changes. Valid → only added, removed and changed jobs are touched.</summary>
    private async Task<ReloadResult> ReloadCoreAsync()
    {
        if (IsEnding())
        {
            return Refused("Pilot is shutting down; the running config is kept");
        }
        var result = ConfigLoader.LoadFile(_options.ConfigPath, ProcessEnvironment.Snapshot());
        if (!result.IsValid)
        {
            // v3's line (it then exited), then Pilot's: the running config stays.
            Log.Write(LogLevel.Error, "error initializing config: " + string.Join("; ", result.Errors));
            Log.Write(LogLevel.Error, "reload refused, keeping the running config: " + string.Join("; ", result.Errors));
            return new ReloadResult(false, result.Errors);
        }
        var next = result.Config!;
        _options.ReloadStages?.Invoke(ReloadStage.Stopping);
        // Matched by whole config, not by name: v3 does not require names to be unique. A job whose config is unchanged
        // is kept in whatever state it is in — running, waiting for its trigger, between periodic runs, or completed (a
        // one-shot job that ran is not run again) — even when its trigger's source changed. Live jobs are matched first.
        var unmatched = JobsOf(next).ToList();
        var current = CurrentJobs();
        var retiring = current.Where(j => j.Snapshot.State != JobState.Completed && !unmatched.Remove(j.Config)).ToList();
        var keptCompleted = current.Where(j => j.Snapshot.State == JobState.Completed && !_retired.Contains(j) && unmatched.Remove(j.Config)).ToList();
        foreach (var job in retiring)
        {
            _retired.Add(job);
            job.Retire();
        }
        await WaitStoppedAsync(retiring).ConfigureAwait(false);
        await _components.StopAsync(_disposing.Token).ConfigureAwait(false);
        Log.Reconfigure(next.Logging);
        Log.Write(LogLevel.Debug, "loaded config: " + next.LoadedJson);
        History.Resize(next.Logging.KeepLines);
        _options.UserMetrics?.Reconfigure(next.Telemetry?.Metrics ?? []);
        _options.ReloadStages?.Invoke(ReloadStage.Starting);
        int started;
        lock (_gate)
        {
            if (_shuttingDown || _finishing)
            {
                return Refused("Pilot is shutting down; the new config was not started");
            }
            // Completed jobs the new config has unchanged stay (completed); other completed ones are dropped.
            var kept = _jobs.Where(j => j.Snapshot.State != JobState.Completed || keptCompleted.Contains(j)).ToList();
            var toStart = JobsOf(next).ToList();
            foreach (var job in kept)
            {
                toStart.Remove(job.Config);
            }
            Volatile.Write(ref _config, next);
            _jobs = [.. kept];
            StartJobsLocked(toStart, next);
            started = toStart.Count;
        }
        await _components.StartAsync(next, Bus, _disposing.Token).ConfigureAwait(false);
        Bus.Publish(Event.GlobalStartup);
        Log.Write(LogLevel.Info, $"config reloaded: {retiring.Count} job(s) stopped, {started} started");
        return new ReloadResult(true, []);
    }

    /// <summary>Waits for retired jobs to complete, bounded by their stop budgets; one that does not is kept as it is.</summary>
    private async Task WaitStoppedAsync(List<Job> retiring)
    {
        if (retiring.Count == 0)
        {
            return;
        }
        var global = Config.StopTimeout;
        var bound = retiring.Max(j => StopTimeouts.For(j.Config.StopTimeout, global)) + StopSlack;
        try
        {
            await Task.WhenAll(retiring.Select(j => j.Completion)).WaitAsync(bound, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var stuck = retiring.Where(j => !j.Completion.IsCompleted).Select(j => j.Name);
            Log.Write(LogLevel.Error, $"reload: job(s) {string.Join(", ", stuck)} did not stop within {bound.TotalSeconds:0} s and keep running");
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

    public async Task<JobCommandResult> ControlJobAsync(string name, JobCommand command, CancellationToken cancellationToken)
    {
        var jobs = CurrentJobs();
        // After a reload a replaced job may still be listed beside its successor: the live one answers.
        var job = jobs.LastOrDefault(j => j.Name == name && !j.Completion.IsCompleted) ?? jobs.LastOrDefault(j => j.Name == name);
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

    public SupervisorSnapshot GetStatus()
    {
        ImmutableList<Job> jobs;
        bool maintenance;
        bool shuttingDown;
        lock (_gate)
        {
            (jobs, maintenance, shuttingDown) = (_jobs, _maintenance, _shuttingDown);
        }
        return new SupervisorSnapshot(
            _options.Version,
            maintenance,
            [.. jobs.Select(j => j.Snapshot)],
            [.. _options.Components.SelectMany(c => c.Watches)])
        {
            ShutdownOrder = Config.ShutdownOrder,
            ShuttingDown = shuttingDown,
        };
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

    /// <summary>Idempotent: the host disposes the supervisor under each of its registrations.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _disposing.CancelAsync().ConfigureAwait(false);
        _requests.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        Task stopWindow;
        lock (_gate)
        {
            stopWindow = _stopWindow;
        }
        await stopWindow.ConfigureAwait(false);
        await Bus.DisposeAsync().ConfigureAwait(false);
        _disposing.Dispose();
    }
}
