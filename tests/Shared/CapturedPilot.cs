using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Pilot.Testing;

/// <summary>
/// A started <c>pilot</c> process (possibly behind a wrapper such as <c>unshare</c>) whose stdout and stderr lines are
/// collected, so a test can wait for one. Disposing kills the process tree. The process-level fixtures of the test
/// assemblies (<c>RunningPilot</c>, <c>LivePilot</c>) build on it.
/// </summary>
internal sealed partial class CapturedPilot : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _lineArrived = new(0);
    private readonly Task _stdout;
    private readonly Task _stderr;

    private CapturedPilot(Process process)
    {
        _process = process;
        _stdout = PumpAsync(process.StandardOutput);
        _stderr = PumpAsync(process.StandardError);
    }

    /// <summary>Starts <paramref name="start"/> with its output redirected to this collector.</summary>
    public static CapturedPilot Start(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        return new CapturedPilot(Process.Start(start)!);
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public IReadOnlyList<string> Lines => [.. _lines];

    public string Output => string.Join('\n', _lines);

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits until an output line contains <paramref name="text"/> (at least <paramref name="occurrences"/> times).</summary>
    public async Task<string> WaitForLineAsync(string text, CancellationToken cancellationToken, int occurrences = 1)
    {
        while (true)
        {
            // v3's debug line `loaded config: <json>` echoes the whole config, so it holds every marker a test's jobs
            // will print; it never counts as the line a test waits for (tests that check it read Lines).
            var matches = _lines.Where(l => l.Contains(text, StringComparison.Ordinal) && !l.Contains("loaded config: ", StringComparison.Ordinal)).ToList();
            if (matches.Count >= occurrences)
            {
                return matches[occurrences - 1];
            }
            if (_process.HasExited && _stdout.IsCompleted && _stderr.IsCompleted)
            {
                throw new InvalidOperationException($"pilot exited ({_process.ExitCode}) before printing '{text}':\n{Output}");
            }
            try
            {
                await _lineArrived.WaitAsync(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"'{text}' not printed; output so far:\n{Output}");
            }
        }
    }

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken);
            await Task.WhenAll(_stdout, _stderr).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"pilot {_process.Id} did not exit in time; its output:\n{Output}");
        }
        return _process.ExitCode;
    }

    private async Task PumpAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            _lines.Enqueue(line);
            _lineArrived.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        _process.Dispose();
        _lineArrived.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
