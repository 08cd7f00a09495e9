using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Pilot.Api.Cli;

namespace Pilot.Api.Tests.Support;

/// <summary>
/// A real <c>pilot</c> process on a config written by the test, with its own temp dir and control socket;
/// output lines are collected so a test can wait for one. Disposing kills whatever is left.
/// </summary>
internal sealed partial class RunningPilot : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _lineArrived = new(0);
    private readonly Task _stdout;
    private readonly Task _stderr;

    private RunningPilot(Process process, string directory, string socketPath)
    {
        _process = process;
        Directory = directory;
        SocketPath = socketPath;
        _stdout = PumpAsync(process.StandardOutput);
        _stderr = PumpAsync(process.StandardError);
    }

    public string Directory { get; }

    public string SocketPath { get; }

    public int Pid => _process.Id;

    public string ConfigPath => Path.Combine(Directory, "pilot.json5");

    public IReadOnlyList<string> Lines => [.. _lines];

    public string Output => string.Join('\n', _lines);

    /// <summary>
    /// Writes <paramref name="config"/> (JSON5; <c>SOCKET</c> and <c>DIR</c> in it are replaced by this instance's
    /// socket path and temp dir) and starts <c>pilot -config</c> on it, optionally through a wrapper command
    /// (e.g. <c>unshare --fork --pid --mount-proc</c>). The temp dir is pilot's working directory;
    /// <paramref name="prepareDirectory"/> may put files there first.
    /// </summary>
    public static RunningPilot Start(string config, IEnumerable<string>? wrapper = null, IDictionary<string, string>? environment = null,
        Action<string>? prepareDirectory = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("pilot-it-").FullName;
        prepareDirectory?.Invoke(directory);
        var socketPath = Path.Combine(directory, "pilot.socket");
        File.WriteAllText(Path.Combine(directory, "pilot.json5"), Render(config, directory, socketPath));
        var command = (wrapper ?? []).Concat([PilotProcess.Locate(), "-config", Path.Combine(directory, "pilot.json5")]).ToList();
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var arg in command.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("CONTAINERPILOT");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        return new RunningPilot(Process.Start(start)!, directory, socketPath);
    }

    public static string Render(string config, string directory, string socketPath) =>
        config.Replace("SOCKET", socketPath, StringComparison.Ordinal).Replace("DIR", directory, StringComparison.Ordinal);

    /// <summary>Rewrites the config file (for reload tests).</summary>
    public void WriteConfig(string config) => File.WriteAllText(ConfigPath, Render(config, Directory, SocketPath));

    public HttpClient CreateClient() => ControlClient.CreateHttpClient(SocketPath);

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
            var matches = _lines.Where(l => l.Contains(text, StringComparison.Ordinal)).ToList();
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

    /// <summary>Waits until the control socket answers <c>/v3/ping</c>.</summary>
    public async Task WaitForSocketAsync(CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        while (true)
        {
            // Each attempt is bounded: a connection accepted while Pilot is still starting must not hold the wait.
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                using var response = await client.GetAsync("/v3/ping", attempt.Token);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
            }
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"pilot exited ({_process.ExitCode}):\n{Output}");
            }
            await Task.Delay(50, cancellationToken);
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
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A killed child may still be writing in it; the temp dir is cleaned by the OS later.
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
