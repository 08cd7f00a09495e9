using System.Globalization;
using Pilot.Supervisor.Config;
using Pilot.Supervisor.Control;
using Pilot.Supervisor.Events;
using Pilot.Supervisor.Health;
using Pilot.Supervisor.Processes;
using LogLevel = Pilot.Supervisor.Config.LogLevel;

namespace Pilot.Supervisor.Jobs;

/// <summary>
/// One job: a mailbox, and a loop that is the only writer of the job's state. The loop hands each input to the
/// state machine (<see cref="JobMachine"/>) and carries out the effects it returns; processes, health probes, timers,
/// Consul and commands reach the job only by posting inputs. Snapshots are published from the loop, in version order.
/// </summary>
public sealed partial class Job
{
    private readonly JobRuntime _runtime;
    private readonly IServiceRegistration? _service;
    private readonly IHealthCheck? _check;
    private readonly JobDefinition _definition;
    private readonly JobMailbox _mailbox = new();
    private readonly JobTimers _timers;
    private readonly Task<Task> _loop;
    // Watchers post a process's or probe's end to the mailbox.
    private readonly Dictionary<object, Task> _watchers = new(ReferenceEqualityComparer.Instance);
    // Process groups the machine is terminating, each watched until it is gone (GroupGone); the watch is given up
    // KillWait after SIGKILL, or when the loop ends.
    private readonly Dictionary<IRunningProcess, CancellationTokenSource> _terminating = new(ReferenceEqualityComparer.Instance);
    // Group watches and Consul calls in flight: observed (failures logged) and awaited before the loop ends.
    private readonly List<Task> _background = [];
    // Every run whose process group may still exist (a leader's exit can leave members behind); read by the supervisor.
    private readonly Lock _groupsGate = new();
    private readonly List<IRunningProcess> _groups = [];
    // What a step publishes and answers, sent once the step is over.
    private readonly List<Event> _outbox = [];
    private readonly List<JobEffect> _replies = [];
    private JobMemory _memory;
    private JobSnapshot _snapshot;
    private Subscription? _subscription;
    // health.notify: the job's own socket, open from Start until the loop ends.
    private Notify.NotifySocket? _notify;

    public Job(JobConfig config, JobRuntime runtime, IServiceRegistration? service = null, IEnumerable<string>? stoppingDependents = null,
        IEnumerable<string>? shutdownDependents = null)
    {
        _runtime = runtime;
        _service = service;
        _check = HealthChecks.For(config, runtime);
        _definition = new JobDefinition(config, [.. stoppingDependents ?? []], service is not null, _check is not null)
        {
            ShutdownDependents = [.. shutdownDependents ?? []],
        };
        _memory = JobMemory.Initial(_definition);
        _snapshot = _memory.ToSnapshot(_definition, runtime.NextVersion());
        _timers = new JobTimers(runtime.Time, _mailbox.Post);
        _loop = new Task<Task>(RunAsync);
        Completion = _loop.Unwrap();
    }

    public JobConfig Config => _definition.Config;

    public string Name => Config.Name;

    /// <summary>The job's loop: completes once the job has halted and published <c>stopped</c>. Never faults.</summary>
    public Task Completion { get; }

    /// <summary>The latest snapshot the loop published.</summary>
    public JobSnapshot Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>Raised from the loop after every snapshot change, in version order (telemetry reads it).</summary>
    public event Action<JobSnapshot>? Changed;

    /// <summary>Subscribes to the bus and starts the loop. Call before publishing <c>startup</c>.</summary>
    public void Start()
    {
        _mailbox.Post(new Begin());
        if (_definition.HasNotify)
        {
            OpenNotifySocket();
        }
        _subscription = _runtime.Bus.Subscribe(Name, _definition.ListenedSources(), _mailbox.DeliverAsync);
        _loop.Start(TaskScheduler.Default);
    }

    /// <summary>Halts the job for good, whatever its trigger (a reload removes or replaces it).</summary>
    public void Retire() => _mailbox.Post(new Command(JobCommand.Retire));

    /// <summary>Tells a pre-stop/post-stop job that its source has halted for good (<see cref="SourceHalted"/>).</summary>
    public void SourceHalted() => _mailbox.Post(new SourceHalted());

    /// <summary>Sends a command; completes with the snapshot after the job handled it (or its last one, if it has completed).</summary>
    public Task<CommandReply> SendAsync(JobCommand command)
    {
        var reply = new TaskCompletionSource<CommandReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_mailbox.Post(new Command(command, reply)))
        {
            reply.TrySetResult(new CommandReply(Snapshot, Changed: false));
        }
        return reply.Task;
    }

    /// <summary>
    /// Forwards a signal to the process groups of the job's run and health probe; completes once the job has passed it
    /// on (so after everything queued before it). Signal 0 reaches no process (it only checks the groups exist): a way
    /// to wait until the job has caught up.
    /// </summary>
    public Task<JobSnapshot> SignalAsync(int signal)
    {
        var reply = new TaskCompletionSource<JobSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_mailbox.Post(new ForwardSignal(signal, reply)))
        {
            reply.TrySetResult(Snapshot);
        }
        return reply.Task;
    }

    private async Task RunAsync()
    {
        try
        {
            // Once completed, the loop stays until the groups it is still terminating (leftovers of an earlier run) are
            // gone, so that nothing of the job outlives it; it then takes only their ends and the kill timer.
            while (_memory.State != JobState.Completed || !_memory.Terminations.IsEmpty)
            {
                var input = await _mailbox.ReadAsync().ConfigureAwait(false);
                if (_memory.State == JobState.Completed && input is not (GroupGone or JobTimers.Tick { Timer: JobTimer.Kill }))
                {
                    Discard(input);
                    continue;
                }
                Step(input);
            }
        }
        catch (Exception ex)
        {
            _runtime.Log.Write(LogLevel.Error, $"job {Name}: internal error: {ex.Message}");
            // Nothing of a job outlives its loop.
            _memory.Run?.SignalGroup(SignalNames.SIGKILL);
            _memory.Probe?.Signal(SignalNames.SIGKILL);
            foreach (var group in _terminating.Keys)
            {
                group.SignalGroup(SignalNames.SIGKILL);
            }
            _memory = _memory.MoveTo(JobState.Completed) with { Run = null, Probe = null, Terminations = [], KillDue = null };
            PublishSnapshot();
        }
        finally
        {
            _timers.Dispose();
            _notify?.Dispose();
            _subscription?.Dispose();
            foreach (var watch in _terminating.Values)
            {
                watch.Cancel();
            }
            foreach (var input in _mailbox.Close())
            {
                Discard(input);
            }
            foreach (var reply in _replies)
            {
                Answer(reply);
            }
            await Task.WhenAll(_background).ConfigureAwait(false);
            foreach (var watch in _terminating.Values)
            {
                watch.Dispose();
            }
            _runtime.Halted?.Invoke(this);
        }
    }

    /// <summary>An input that comes after the job completed: a command or forwarded signal is answered with the last snapshot.</summary>
    private void Discard(JobInput input)
    {
        switch (input)
        {
            case Command { Reply: { } reply }:
                reply.TrySetResult(new CommandReply(Snapshot, Changed: false));
                break;
            case ForwardSignal { Reply: { } passed }:
                passed.TrySetResult(Snapshot);
                break;
            case NotifyBarrier barrier:
                Notify.NotifySocket.CloseAll(barrier.Descriptors);
                break;
        }
    }

    /// <summary>One input through the machine; the outcome of a launch comes back at once and is handled in the same step.</summary>
    private void Step(JobInput received)
    {
        var pending = new Queue<JobInput>();
        pending.Enqueue(received);
        while (pending.TryDequeue(out var input))
        {
            if (input is NotifyBarrier barrier)
            {
                // Every datagram before it is handled: closing its descriptors releases the sender's sd_notify_barrier.
                Notify.NotifySocket.CloseAll(barrier.Descriptors);
                continue;
            }
            if (input is JobTimers.Tick tick)
            {
                if (!_timers.IsCurrent(tick))
                {
                    continue;
                }
                input = new TimerFired(tick.Timer);
            }
            var step = JobMachine.Handle(_definition, _memory, input,
                new JobMoment(_runtime.Time.GetUtcNow(), _runtime.GlobalStopTimeout(), Random.Shared.NextDouble(), _runtime.StopHooks));
            _memory = step.Memory;
            if (input is RunExited { Run: var run })
            {
                _watchers.Remove(run);
            }
            else if (input is CheckFinished { Probe: var probe })
            {
                _watchers.Remove(probe);
            }
            else if (input is GroupGone { Group: var gone } && _terminating.Remove(gone, out var watch))
            {
                watch.Dispose();
            }
            foreach (var effect in step.Effects)
            {
                if (Carry(effect) is { } next)
                {
                    pending.Enqueue(next);
                }
            }
        }
        // A step is seen whole: its snapshot first, then its events, then the answers to its commands and a shutdown it
        // asks for (so whoever sees an event or an answer sees the state the step ended in, never the passing Starting,
        // and all it did).
        PublishSnapshot();
        foreach (var e in _outbox)
        {
            _runtime.Bus.Publish(e);
        }
        _outbox.Clear();
        foreach (var reply in _replies)
        {
            Answer(reply);
        }
        _replies.Clear();
    }

    private void Answer(JobEffect reply)
    {
        switch (reply)
        {
            case Reply command:
                command.To.TrySetResult(new CommandReply(Snapshot, command.Changed));
                break;
            case SignalPassed passed:
                passed.To.TrySetResult(Snapshot);
                break;
            case RequestShutdown shutdown:
                _runtime.ShutdownRequested?.Invoke(shutdown.ExitCode);
                break;
        }
    }

    /// <summary>Carries out one effect; returns the input that reports its outcome at once, if any.</summary>
    private JobInput? Carry(JobEffect effect)
    {
        switch (effect)
        {
            case Publish publish:
                _outbox.Add(publish.Event);
                return null;
            case WriteLog log:
                _runtime.Log.Write(log.Level, log.Text);
                return null;
            case ReportInternalError error:
                _runtime.Log.Write(LogLevel.Error, "internal error: " + error.Text);
                return null;
            case ArmTimer arm:
                _timers.Arm(arm.Timer, arm.Due, arm.Periodic);
                return null;
            case DisarmTimer disarm:
                _timers.Disarm(disarm.Timer);
                return null;
            case LaunchRun:
                return Launch();
            case StartCheck:
                var probe = _check!.Start();
                _watchers[probe] = WatchProbeAsync(probe);
                return new CheckStarted(probe);
            case SetPidVariable variable:
                ProcessEnvironment.Set(variable.Name, variable.Pid?.ToString(CultureInfo.InvariantCulture));
                return null;
            case SignalRun signal:
                signal.Run.SignalGroup(signal.Signal);
                return null;
            case SignalCheck signal:
                signal.Probe.Signal(signal.Signal);
                return null;
            case TerminateGroup terminate:
                return Terminate(terminate.Group, terminate.Signal);
            case KillGroup kill:
                kill.Group.SignalGroup(SignalNames.SIGKILL);
                // The machine waits for the group's end; one stuck in the kernel is given up after KillWait.
                _terminating.GetValueOrDefault(kill.Group)?.CancelAfter(ProcessGroupKiller.KillWait);
                return null;
            case CancelCheck cancel:
                cancel.Probe.Cancel();
                return null;
            case CallService call:
                CallService(call.Call);
                return null;
            case Deregister:
                Track(DeregisterAsync(), "deregistering");
                return null;
            case LeaveBus:
                _subscription?.Dispose();
                return null;
            case Enqueue enqueue:
                _mailbox.Post(enqueue.Input);
                return null;
            case Reply or SignalPassed or RequestShutdown:
                _replies.Add(effect);
                return null;
            default:
                throw new InvalidOperationException($"no handler for the effect {effect}");
        }
    }

    private JobInput Launch()
    {
        IRunningProcess run;
        try
        {
            run = _runtime.Launcher.Start(new ProcessStartRequest(Name, Config.Exec!, Config.RawLogging ? null : _runtime.WriteOutput)
            {
                RunAs = Config.RunAs,
                ExtraEnvironment = NotifyEnvironment(),
            });
        }
        catch (ProcessStartException ex)
        {
            return new RunStartFailed(ex.Message);
        }
        TrackGroup(run);
        _watchers[run] = WatchRunAsync(run);
        return new RunStarted(run);
    }

    private void OpenNotifySocket()
    {
        try
        {
            _notify = Notify.NotifySocket.Open(Name, Config.RunAs, _mailbox.Post);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            // The job still runs; it has no NOTIFY_SOCKET, so it never becomes ready (its status says why).
            _runtime.Log.Write(LogLevel.Error, $"job {Name}: health.notify: cannot make the notify socket: {ex.Message}");
        }
    }

    /// <summary>
    /// <c>NOTIFY_SOCKET</c> for a <c>health.notify</c> job, and <c>WATCHDOG_USEC</c> (its <c>health.ttl</c>) so that
    /// a daemon using sd_watchdog_enabled(3) sends WATCHDOG=1 in time; null for other jobs.
    /// </summary>
    private Dictionary<string, string>? NotifyEnvironment()
    {
        if (_notify is not { } notify)
        {
            return null;
        }
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["NOTIFY_SOCKET"] = notify.Path };
        if (Config.Health is { TtlSeconds: > 0 } health)
        {
            environment["WATCHDOG_USEC"] = (health.TtlSeconds * 1_000_000L).ToString(CultureInfo.InvariantCulture);
        }
        return environment;
    }

    private async Task WatchRunAsync(IRunningProcess run)
    {
        ProcessExit exit;
        try
        {
            exit = await run.Exited.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _runtime.Log.Write(LogLevel.Error, $"job {Name}: lost track of pid {run.Pid}: {ex.Message}");
            exit = new ProcessExit(-1, null);
        }
        _mailbox.Post(new RunExited(run, exit));
    }

    private async Task WatchProbeAsync(IHealthProbe probe)
    {
        HealthCheckResult result;
        try
        {
            result = await probe.Completion.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            result = new HealthCheckResult(HealthCheckOutcome.Failed, ex.Message);
        }
        _mailbox.Post(new CheckFinished(probe, result));
    }

    /// <summary>
    /// The machine's <see cref="TerminateGroup"/>: the signal, and a watch that posts <see cref="GroupGone"/> once the group
    /// is gone. A group gone already gets nothing and is reported at once.
    /// </summary>
    private GroupGone? Terminate(IRunningProcess group, int signal)
    {
        if (!_terminating.ContainsKey(group))
        {
            if (!group.IsGroupAlive)
            {
                return new GroupGone(group);
            }
            var watch = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _runtime.Time);
            _terminating[group] = watch;
            Track(WatchGroupAsync(group, watch.Token), "terminating processes");
        }
        group.SignalGroup(signal);
        return null;
    }

    private async Task WatchGroupAsync(IRunningProcess group, CancellationToken giveUp)
    {
        try
        {
            await ProcessGroupKiller.WaitGoneAsync(group, Timeout.InfiniteTimeSpan, _runtime.Time, giveUp).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Still there KillWait after SIGKILL (or the loop ended): no longer waited for.
        }
        _mailbox.Post(new GroupGone(group));
    }

    /// <summary>Keeps <paramref name="run"/> for <see cref="KillProcessesAsync"/>, dropping groups that are gone.</summary>
    private void TrackGroup(IRunningProcess run)
    {
        lock (_groupsGate)
        {
            _groups.RemoveAll(g => !g.IsGroupAlive);
            _groups.Add(run);
        }
    }

    /// <summary>SIGKILL to every process group the job started that is still there, leader or not (end of the global stop window); completes when they are gone.</summary>
    public Task KillProcessesAsync()
    {
        IRunningProcess[] groups;
        lock (_groupsGate)
        {
            groups = [.. _groups];
        }
        return Task.WhenAll(groups.Select(group => ProcessGroupKiller.KillAsync(group, _runtime.Time)));
    }

    private async Task DeregisterAsync()
    {
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5), _runtime.Time);
            await _service!.DeregisterAsync(limit.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _runtime.Log.Write(LogLevel.Info, $"deregistering failed: {ex.Message}");
        }
        finally
        {
            _mailbox.Post(new Deregistered());
        }
    }

    private void CallService(ServiceCall call)
    {
        switch (call)
        {
            case ServiceCall.EnsureInitialRegistration:
                _service?.EnsureInitialRegistration();
                break;
            case ServiceCall.Heartbeat:
                _service?.Heartbeat();
                break;
            case ServiceCall.EnterMaintenance:
                _service?.EnterMaintenance();
                break;
            case ServiceCall.ExitMaintenance:
                _service?.ExitMaintenance();
                break;
        }
    }

    private void Track(Task task, string what)
    {
        _background.RemoveAll(t => t.IsCompleted);
        _background.Add(ObserveAsync(task, what));
    }

    private async Task ObserveAsync(Task task, string what)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _runtime.Log.Write(LogLevel.Error, $"job {Name}: {what} failed: {ex.Message}");
        }
    }

    private void PublishSnapshot()
    {
        var current = _snapshot;
        var next = _memory.ToSnapshot(_definition, current.Version);
        if (next.Notify is { } notify)
        {
            next = next with { Notify = notify with { Socket = _notify?.Path } };
        }
        if (next == current)
        {
            return;
        }
        next = next with { Version = _runtime.NextVersion() };
        Volatile.Write(ref _snapshot, next);
        try
        {
            Changed?.Invoke(next);
        }
        catch (Exception ex)
        {
            _runtime.Log.Write(LogLevel.Error, $"job {Name}: a snapshot observer failed: {ex.Message}");
        }
    }
}
