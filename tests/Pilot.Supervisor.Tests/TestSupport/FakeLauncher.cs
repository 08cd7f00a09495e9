using System.Collections.Concurrent;
using Pilot.Supervisor.Processes;

namespace Pilot.Supervisor.Tests.TestSupport;

/// <summary>A launcher whose processes the test ends by hand; used for state machine tests with a fake clock.</summary>
internal sealed class FakeLauncher : IProcessLauncher
{
    private int _nextPid = 1000;

    public ConcurrentQueue<FakeProcess> Started { get; } = new();

    /// <summary>Programs whose start fails, as a missing executable would.</summary>
    public HashSet<string> Missing { get; } = [];

    public IRunningProcess Start(ProcessStartRequest request)
    {
        if (Missing.Contains(request.Command.Program))
        {
            throw new ProcessStartException($"exec: \"{request.Command.Program}\": executable file not found in $PATH");
        }
        var process = new FakeProcess(request.Name, Interlocked.Increment(ref _nextPid));
        Started.Enqueue(process);
        return process;
    }

    public IEnumerable<FakeProcess> Named(string name) => Started.Where(p => p.Name == name);

    /// <summary>Waits until <paramref name="count"/> processes named <paramref name="name"/> were started.</summary>
    public async Task<FakeProcess> WaitForStartAsync(string name, int count = 1)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (Named(name).Count() < count)
        {
            await Task.Delay(5, timeout.Token);
        }
        return Named(name).ElementAt(count - 1);
    }
}

internal sealed class FakeProcess(string name, int pid) : IRunningProcess
{
    private readonly TaskCompletionSource<ProcessExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; } = name;

    public int Pid { get; } = pid;

    public Task<ProcessExit> Exited => _exit.Task;

    public ConcurrentQueue<int> Signals { get; } = new();

    /// <summary>When true the process dies on SIGTERM; otherwise only SIGKILL ends it.</summary>
    public bool HonoursSigterm { get; set; } = true;

    public void Exit(int code) => _exit.TrySetResult(new ProcessExit(code, null));

    public void SignalGroup(int signal)
    {
        Signals.Enqueue(signal);
        if (signal == SignalNames.SIGKILL || (signal == SignalNames.SIGTERM && HonoursSigterm))
        {
            _exit.TrySetResult(new ProcessExit(128 + signal, signal));
        }
    }
}
