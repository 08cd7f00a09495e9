using System.Diagnostics;
using System.Net.Sockets;
using Pilot.Client;

namespace Pilot.Clients.Tests.Support;

/// <summary>
/// The real <c>pilot</c> binary on a config written by the test (<c>SOCKET</c> in it becomes this instance's control
/// socket in its own temp dir), with its output lines collected. Disposing kills what is left.
/// </summary>
internal sealed class LivePilot : IAsyncDisposable
{
    /// <summary>
    /// The config of the client tests: a long-running <c>app</c> (listed by status), a <c>printer</c> run on SIGHUP
    /// that prints <c>$SDK_VALUE</c> and <c>$DB_HOST</c> (what a put env did to later children), and the <c>jobs_done</c>
    /// counter the README examples post to (telemetry also adds its <c>containerpilot</c> job).
    /// </summary>
    public const string Config = """
        {
          control: { socket: "SOCKET" },
          jobs: [
            { name: "app", exec: "sleep 600" },
            { name: "printer", exec: ["sh", "-c", "echo printed=$SDK_VALUE db=$DB_HOST"], when: { source: "SIGHUP" } },
          ],
          telemetry: {
            port: 0,
            interfaces: ["static:127.0.0.1"],
            metrics: [ { name: "jobs_done", help: "jobs done", type: "counter" } ],
          },
        }
        """;

    private const int SigHup = 1;

    private readonly CapturedPilot _pilot;
    private readonly string _directory;

    private LivePilot(CapturedPilot pilot, string directory)
    {
        _pilot = pilot;
        _directory = directory;
    }

    public string SocketPath => Path.Combine(_directory, "pilot.socket");

    public string Output => _pilot.Output;

    /// <summary>Starts <c>pilot -config</c> on <paramref name="config"/> and waits until its socket answers a ping.</summary>
    public static async Task<LivePilot> StartAsync(CancellationToken cancellationToken, string config = Config)
    {
        var directory = Directory.CreateTempSubdirectory("pilot-clients-").FullName;
        var configPath = Path.Combine(directory, "pilot.json5");
        await File.WriteAllTextAsync(
            configPath, config.Replace("SOCKET", Path.Combine(directory, "pilot.socket"), StringComparison.Ordinal), cancellationToken);
        var start = new ProcessStartInfo(Checkout.PilotBinary()) { WorkingDirectory = directory };
        start.ArgumentList.Add("-config");
        start.ArgumentList.Add(configPath);
        start.Environment.Remove("CONTAINERPILOT");
        start.Environment.Remove("SDK_VALUE");
        start.Environment.Remove("DB_HOST");
        var pilot = new LivePilot(CapturedPilot.Start(start), directory);
        try
        {
            await pilot.WaitForSocketAsync(cancellationToken);
            return pilot;
        }
        catch
        {
            await pilot.DisposeAsync();
            throw;
        }
    }

    public void SendSigHup() => _pilot.Signal(SigHup);

    /// <summary>Waits until an output line contains <paramref name="text"/>, and returns it.</summary>
    public Task<string> WaitForLineAsync(string text, CancellationToken cancellationToken) => _pilot.WaitForLineAsync(text, cancellationToken);

    // Polls the generated client's own ping until the socket is bound; each attempt is bounded by the caller's token.
    private async Task WaitForSocketAsync(CancellationToken cancellationToken)
    {
        using var http = PilotClientFactory.CreateHttpClient(SocketPath);
        var client = PilotClientFactory.Create(http);
        while (true)
        {
            try
            {
                if ((await client.V3.Ping.GetAsync(cancellationToken: cancellationToken))?.Ok == true)
                {
                    return;
                }
            }
            catch (HttpRequestException e) when (e.InnerException is SocketException)
            {
                // Not bound yet.
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"pilot's control socket never answered; output so far:\n{Output}");
            }
            if (_pilot.HasExited)
            {
                throw new InvalidOperationException($"pilot exited ({_pilot.ExitCode}) before binding its socket:\n{Output}");
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _pilot.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A killed child may still be writing in it; the OS cleans temp dirs later.
        }
    }
}
