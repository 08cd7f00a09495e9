using System.Net.Sockets;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Cli;

/// <summary>
/// The real <c>pilot</c> with a control.socket it cannot use: a path longer than a Unix socket address holds is a
/// config error naming <c>control.socket</c> (for <c>-validate</c> too), and whatever is at the path and is not a
/// socket is refused with a clear error and left alone. Only a stale socket is replaced.
/// </summary>
public sealed class ControlSocketPathTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pilot-socket-").FullName;

    private string WriteConfig(string socketPath)
    {
        var config = Path.Combine(_directory, "pilot.json5");
        File.WriteAllText(config, $$"""{ control: { socket: "{{socketPath}}" }, jobs: [ { name: "app", exec: ["sleep", "600"] } ] }""");
        return config;
    }

    private string LongSocketPath()
    {
        var path = Path.Combine(_directory, new string('s', 120) + ".socket");
        System.Text.Encoding.UTF8.GetByteCount(path).ShouldBeGreaterThan(107);
        return path;
    }

    [Fact]
    public async Task Validate_ReportsASocketPathLongerThanSunPath_NamingControlSocket()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await PilotProcess.RunAsync(["-config", WriteConfig(LongSocketPath()), "-validate"], timeout.Token);

        outcome.ExitCode.ShouldBe(1, outcome.Stdout + outcome.Stderr);
        outcome.Stdout.ShouldContain("error: control.socket: the socket path is");
        outcome.Stdout.ShouldContain("at most 107");
    }

    [Fact]
    public async Task Run_RefusesASocketPathLongerThanSunPath_WithAConfigError_NotAnAbort()
    {
        using var timeout = PilotProcess.Timeout();

        var outcome = await PilotProcess.RunAsync(["-config", WriteConfig(LongSocketPath())], timeout.Token);

        outcome.ExitCode.ShouldBe(1, outcome.Stdout + outcome.Stderr);
        outcome.Stdout.ShouldContain("control.socket: the socket path is");
        outcome.Stderr.ShouldNotContain("Unhandled exception");
    }

    [Theory]
    [InlineData("file", "a regular file")]
    [InlineData("directory", "a directory")]
    public async Task Run_RefusesSomethingThatIsNotASocketAtTheSocketPath_AndLeavesItAlone(string what, string described)
    {
        using var timeout = PilotProcess.Timeout();
        var socketPath = Path.Combine(_directory, "pilot.socket");
        if (what == "file")
        {
            File.WriteAllText(socketPath, "precious");
        }
        else
        {
            Directory.CreateDirectory(socketPath);
        }

        var outcome = await PilotProcess.RunAsync(["-config", WriteConfig(socketPath)], timeout.Token);

        outcome.ExitCode.ShouldBe(1, outcome.Stdout + outcome.Stderr);
        outcome.Stdout.ShouldContain($"control.socket {socketPath}: {described} is there, not a socket");
        if (what == "file")
        {
            File.ReadAllText(socketPath).ShouldBe("precious");
        }
        else
        {
            Directory.Exists(socketPath).ShouldBeTrue();
        }
    }

    [Fact]
    public async Task Run_ReplacesAStaleSocket()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start("""{ control: { socket: "SOCKET" }, jobs: [ { name: "app", exec: ["sleep", "600"] } ] }""",
            prepareDirectory: directory => CreateStaleSocket(Path.Combine(directory, "pilot.socket")));

        await pilot.WaitForSocketAsync(timeout.Token);

        pilot.Signal(15);
        (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
    }

    /// <summary>A socket file nobody listens on, as a crash leaves it (.NET unlinks the path it bound, so it is moved there).</summary>
    private static void CreateStaleSocket(string path)
    {
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(path + ".tmp"));
            File.Move(path + ".tmp", path);
        }
        File.Exists(path).ShouldBeTrue();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
