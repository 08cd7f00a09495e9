using System.Diagnostics;
using Pilot.Api.Tests.Control;
using Pilot.Api.Tests.Support;
using Pilot.Client;
using Pilot.Client.V3.Environ;
using Shouldly;

namespace Pilot.Api.Tests.Clients;

/// <summary>The generated clients under clients/, against a real pilot over its Unix socket, and their freshness.</summary>
public sealed class ClientSdkTests
{
    private const string Config = """
        {
          control: { socket: "SOCKET" },
          jobs: [
            { name: "app", exec: "sleep 600" },
            { name: "printer", exec: ["sh", "-c", "echo printed=$SDK_VALUE"], when: { source: "SIGHUP" } },
          ],
        }
        """;

    private static string Root => OpenApiDocumentTests.RepositoryRoot();

    [Fact]
    public async Task CSharpClient_PutsEnv_EnablesMaintenance_ReadsStatus()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Config);
        await pilot.WaitForSocketAsync(timeout.Token);
        var client = PilotClientFactory.Create(pilot.SocketPath);

        await client.V3.Environ.PostAsync(new EnvironPostRequestBody { AdditionalData = { ["SDK_VALUE"] = "from-csharp" } }, cancellationToken: timeout.Token);
        var maintenance = await client.V3.Maintenance.Enable.PostAsync(cancellationToken: timeout.Token);
        var status = await client.V3.Status.GetAsync(cancellationToken: timeout.Token);
        pilot.Signal(1);

        maintenance!.Updated.ShouldBe(true);
        status!.Maintenance.ShouldBe(true);
        status.Jobs!.Select(j => j.Name).ShouldContain("app");
        (await pilot.WaitForLineAsync("printed=", timeout.Token)).ShouldEndWith("printed=from-csharp");
    }

    [Fact]
    public async Task TypeScriptClient_PutsEnv_EnablesMaintenance_ReadsStatus()
    {
        using var timeout = PilotProcess.Timeout();
        await using var pilot = RunningPilot.Start(Config);
        await pilot.WaitForSocketAsync(timeout.Token);
        var directory = Path.Combine(Root, "clients/typescript");
        Directory.Exists(Path.Combine(directory, "node_modules"))
            .ShouldBeTrue("run `npm ci` in clients/typescript (./scripts/test does it)");

        var (exitCode, output) = await RunAsync("node", ["--test", "test/"], directory, new() { ["PILOT_SOCKET"] = pilot.SocketPath }, timeout.Token);

        exitCode.ShouldBe(0, output);
        output.ShouldContain("# pass 1");
    }

    [Fact]
    public async Task CheckedInClients_MatchTheOpenApiDocument()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var fresh = Directory.CreateTempSubdirectory("pilot-clients-").FullName;
        try
        {
            var (exitCode, output) = await RunAsync(Path.Combine(Root, "scripts/generate-clients"), [fresh], Root, [], timeout.Token);
            exitCode.ShouldBe(0, output);

            foreach (var relative in GeneratedFiles(Root).Union(GeneratedFiles(fresh)))
            {
                var checkedIn = Path.Combine(Root, relative);
                var generated = Path.Combine(fresh, relative);
                (File.Exists(checkedIn) && File.Exists(generated) && File.ReadAllText(checkedIn) == File.ReadAllText(generated))
                    .ShouldBeTrue($"{relative} is stale: run ./scripts/generate-clients and commit the result");
            }
        }
        finally
        {
            Directory.Delete(fresh, recursive: true);
        }
    }

    private static IEnumerable<string> GeneratedFiles(string root) =>
        Directory.GetFiles(Path.Combine(root, "clients/csharp/Pilot.Client/Generated"), "*", SearchOption.AllDirectories)
            .Append(Path.Combine(root, "clients/typescript/src/pilot.d.ts"))
            .Select(f => Path.GetRelativePath(root, f));

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] args, string directory,
        Dictionary<string, string> environment, CancellationToken token)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(token);
        var stderr = process.StandardError.ReadToEndAsync(token);
        await process.WaitForExitAsync(token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
