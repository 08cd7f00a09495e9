using System.Net;
using System.Net.Sockets;
using Pilot.Api.Cli;
using Pilot.Api.Control;
using Pilot.Api.Tests.Support;
using Pilot.Supervisor.Config;
using Shouldly;
using Xunit;

namespace Pilot.Api.Tests.Control;

public sealed class ControlSocketTests
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task Socket_HasMode0600_ByDefault()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        File.GetUnixFileMode(host.SocketPath).ShouldBe(Mode0600);
    }

    [Fact]
    public async Task Socket_HasConfiguredMode_WhenControlModeIsSet()
    {
        await using var host = await ControlPlaneHost.StartAsync(socketMode: Convert.ToInt32("660", 8));

        File.GetUnixFileMode(host.SocketPath).ShouldBe(Mode0600 | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
    }

    [Fact]
    public async Task Socket_IsReplaced_WhenAStaleSocketFileIsLeft()
    {
        var directory = new TempDirectory();
        var path = directory.File("control.sock");
        // A socket file nobody listens on, as a crash leaves it. .NET unlinks the path it bound on dispose,
        // so the file is moved away from that path first.
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(path + ".tmp"));
            stale.Listen();
            File.Move(path + ".tmp", path);
        }
        File.Exists(path).ShouldBeTrue();

        await using var host = await ControlPlaneHost.StartAsync(directory);

        var (status, _, _) = await host.Client.GetJsonAsync("/v3/ping", host.Token);
        status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Socket_IsRefused_WhenAnotherPilotAnswersOnIt()
    {
        await using var first = await ControlPlaneHost.StartAsync();

        Should.Throw<ControlSocketInUseException>(() => ControlListener.Bind(first.Control));

        var (status, _, _) = await first.Client.GetJsonAsync("/v3/ping", first.Token);
        status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public void PrepareForBind_RefusesARegularFile_AndLeavesIt()
    {
        using var directory = new TempDirectory();
        var path = directory.File("typo.sock");
        File.WriteAllText(path, "precious");

        Should.Throw<ControlSocketPathTakenException>(() => ControlSocket.PrepareForBind(path)).Message.ShouldContain("a regular file is there, not a socket");

        File.ReadAllText(path).ShouldBe("precious");
    }

    [Fact]
    public void PrepareForBind_DoesNothing_WhenNoFileExists()
    {
        using var directory = new TempDirectory();

        ControlSocket.PrepareForBind(directory.File("none.sock"));

        File.Exists(directory.File("none.sock")).ShouldBeFalse();
    }

    [Fact]
    public async Task Socket_IsNotListenedOnTcp()
    {
        await using var host = await ControlPlaneHost.StartAsync();

        // Kestrel serves the socket Pilot bound (a descriptor handed over), and nothing else.
        host.ControlPlane.Addresses.ShouldHaveSingleItem().ShouldBe($"http://unix:{host.SocketPath}");
        new FileInfo($"/proc/self/fd/{host.Listener.Descriptor}").LinkTarget.ShouldStartWith("socket:");
    }

    [Fact]
    public async Task Kestrel_RunsOnlyWhileClientsConnect_AndStartsAgainForTheNextClient()
    {
        var serving = new ServingLog();
        await using var host = await ControlPlaneHost.StartAsync(idleAfter: TimeSpan.FromMilliseconds(200), loggers: serving);
        host.ControlPlane.IsServing.ShouldBeFalse();

        for (var round = 0; round < 2; round++)
        {
            // A client of its own per round, as each `pilot -putenv` is: its connection closes with it.
            using (var client = ControlClient.CreateHttpClient(host.SocketPath))
            {
                var (status, _, _) = await client.GetJsonAsync("/v3/ping", host.Token);
                status.ShouldBe(HttpStatusCode.OK);
                (await serving.Changes.ReadAsync(host.Token)).ShouldBeTrue();
            }
            (await serving.Changes.ReadAsync(host.Token)).ShouldBeFalse();
            host.ControlPlane.IsServing.ShouldBeFalse();
        }

        // Each Kestrel served a duplicate of the socket and closed none (its socket does not own it): Pilot did, so only
        // the listener's own descriptor is left.
        var socket = new FileInfo($"/proc/self/fd/{host.Listener.Descriptor}").LinkTarget;
        Directory.EnumerateFiles("/proc/self/fd").Count(fd => SafeLinkTarget(fd) == socket).ShouldBe(1);
    }

    private static string? SafeLinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null; // closed meanwhile
        }
    }

    [Fact]
    public void Socket_IsRemoved_WhenTheListenerIsDisposed()
    {
        using var directory = new TempDirectory();
        var control = new ControlConfig { SocketPath = directory.File("control.sock") };

        ControlListener.Bind(control).Dispose();

        File.Exists(control.SocketPath).ShouldBeFalse();
    }
}
