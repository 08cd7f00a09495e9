using System.Collections.Concurrent;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Tests.TestSupport;

/// <summary>A launcher whose processes the test ends by hand; used for job tests with a fake clock.</summary>
internal sealed class FakeLauncher(TimeProvider time) : IProcessLauncher
{
    // Above any Linux pid_max (2^22): kill(-pid, 0) on one is always ESRCH, so no real process group is ever touched.
    private int _nextPid = 1 << 30;
    private readonly SemaphoreSlim _started = new(0);

    public ConcurrentQueue<FakeProcess> Started { get; } = new();

    /// <summary>Programs whose start fails, as a missing executable would.</summary>
    public HashSet<string> Missing { get; } = [];

    public IRunningProcess Start(ProcessStartRequest request)
    {
        if (Missing.Contains(request.Command.Program))
        {
            throw new ProcessStartException($"exec: \"{request.Command.Program}\": executable file not found in $PATH");
        }
        var process = new FakeProcess(request.Name, Interlocked.Increment(ref _nextPid), time);
        Started.Enqueue(process);
        _started.Release();
        return process;
    }

    public IEnumerable<FakeProcess> Named(string name) => Started.Where(p => p.Name == name);

    /// <summary>Waits until <paramref name="count"/> processes named <paramref name="name"/> were started.</summary>
    public async Task<FakeProcess> WaitForStartAsync(string name, int count = 1)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (Named(name).Count() < count)
        {
            try
            {
                await _started.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{name} was not started {count} time(s) within 10 s; started: {string.Join(", ", Started.Select(p => p.Name))}");
            }
        }
        return Named(name).ElementAt(count - 1);
    }
}

/// <summary>A process that ends when the test says so, or on SIGKILL (and SIGTERM unless told otherwise). Signals are recorded with the fake time.</summary>
internal sealed class FakeProcess(string name, int pid, TimeProvider time) : IRunningProcess
{
    private readonly TaskCompletionSource<ProcessExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; } = name;

    public int Pid { get; } = pid;

    public Task<ProcessExit> Exited => _exit.Task;

    public ConcurrentQueue<(int Signal, DateTimeOffset At)> Received { get; } = new();

    public IEnumerable<int> Signals => Received.Select(r => r.Signal);

    /// <summary>When true the process dies on SIGTERM; otherwise only SIGKILL ends it.</summary>
    public bool HonoursSigterm { get; set; } = true;

    public void Exit(int code) => _exit.TrySetResult(new ProcessExit(code, null));

    public void SignalGroup(int signal)
    {
        if (signal == 0)
        {
            // kill(pid, 0) delivers nothing.
            return;
        }
        Received.Enqueue((signal, time.GetUtcNow()));
        if (signal == SignalNames.SIGKILL || (signal == SignalNames.SIGTERM && HonoursSigterm))
        {
            _exit.TrySetResult(new ProcessExit(128 + signal, signal));
        }
    }
}
