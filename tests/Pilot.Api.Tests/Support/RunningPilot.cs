using System.Diagnostics;
using Pilot.Api.Cli;

namespace Pilot.Api.Tests.Support;

/// <summary>
/// A real <c>pilot</c> process on a config written by the test, with its own temp dir and control socket;
/// output lines are collected so a test can wait for one. Disposing kills whatever is left.
/// </summary>
internal sealed class RunningPilot : IAsyncDisposable
{
    private readonly CapturedPilot _pilot;

    private RunningPilot(CapturedPilot pilot, string directory, string socketPath)
    {
        _pilot = pilot;
        Directory = directory;
        SocketPath = socketPath;
    }

    public string Directory { get; }

    public string SocketPath { get; }

    public int Pid => _pilot.Pid;

    public string ConfigPath => Path.Combine(Directory, "pilot.json5");

    public IReadOnlyList<string> Lines => _pilot.Lines;

    public string Output => _pilot.Output;

    /// <summary>
    /// Writes <paramref name="config"/> (JSON5; <c>SOCKET</c> and <c>DIR</c> in it are replaced by this instance's
    /// socket path and temp dir) and starts <c>pilot -config</c> on it, optionally through a wrapper command
    /// (e.g. <c>unshare --fork --pid --mount-proc</c>) and with more <paramref name="arguments"/>. The temp dir is pilot's working directory;
    /// <paramref name="prepareDirectory"/> may put files there first.
    /// </summary>
    public static RunningPilot Start(string config, IEnumerable<string>? wrapper = null, IDictionary<string, string>? environment = null,
        Action<string>? prepareDirectory = null, IEnumerable<string>? arguments = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("pilot-it-").FullName;
        prepareDirectory?.Invoke(directory);
        var socketPath = Path.Combine(directory, "pilot.socket");
        File.WriteAllText(Path.Combine(directory, "pilot.json5"), Render(config, directory, socketPath));
        var command = (wrapper ?? []).Concat([Checkout.PilotBinary(), "-config", Path.Combine(directory, "pilot.json5"), .. arguments ?? []]).ToList();
        var start = new ProcessStartInfo(command[0]) { WorkingDirectory = directory };
        foreach (var arg in command.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("CONTAINERPILOT");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        return new RunningPilot(CapturedPilot.Start(start), directory, socketPath);
    }

    public static string Render(string config, string directory, string socketPath) =>
        config.Replace("SOCKET", socketPath, StringComparison.Ordinal).Replace("DIR", directory, StringComparison.Ordinal);

    /// <summary>Rewrites the config file (for reload tests).</summary>
    public void WriteConfig(string config) => File.WriteAllText(ConfigPath, Render(config, Directory, SocketPath));

    public HttpClient CreateClient() => ControlClient.CreateHttpClient(SocketPath);

    public void Signal(int signal) => _pilot.Signal(signal);

    /// <summary>Waits until an output line contains <paramref name="text"/> (at least <paramref name="occurrences"/> times).</summary>
    public Task<string> WaitForLineAsync(string text, CancellationToken cancellationToken, int occurrences = 1) =>
        _pilot.WaitForLineAsync(text, cancellationToken, occurrences);

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
            if (_pilot.HasExited)
            {
                throw new InvalidOperationException($"pilot exited ({_pilot.ExitCode}):\n{Output}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    public Task<int> WaitForExitAsync(CancellationToken cancellationToken) => _pilot.WaitForExitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _pilot.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A killed child may still be writing in it; the temp dir is cleaned by the OS later.
        }
    }
}
