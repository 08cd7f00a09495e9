using Pilot.Clients.Tests.Support;
using Shouldly;

namespace Pilot.Clients.Tests.Live;

/// <summary>
/// The TypeScript client as installed from its npm tarball (openapi-typescript types + openapi-fetch over undici) against
/// the real pilot: clients/typescript/test with <c>node --test</c>, and clients/README.md's TypeScript example compiled
/// with tsc (strict, a plain <c>.ts</c> file) and run.
/// </summary>
public sealed class TypeScriptClientTests
{
    [Fact]
    public async Task NodeTests_Pass_AgainstRunningPilot()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var consumer = await PackedClients.TypeScriptConsumerAsync(timeout.Token);
        Directory.CreateDirectory(Path.Combine(consumer, "test"));
        File.Copy(Path.Combine(Repository.TypeScriptClient, "test/client.test.mjs"), Path.Combine(consumer, "test/client.test.mjs"), overwrite: true);
        await using var pilot = await LivePilot.StartAsync(timeout.Token);

        var run = await Repository.RunAsync(
            "node", ["--test", "--test-reporter=tap", "test/"], consumer, timeout.Token,
            new Dictionary<string, string> { ["PILOT_SOCKET"] = pilot.SocketPath });
        pilot.SendSigHup();

        run.ExitCode.ShouldBe(0, run.Output);
        run.Stdout.ShouldContain("# pass 4", customMessage: run.Output);
        run.Stdout.ShouldContain("# fail 0", customMessage: run.Output);
        // The node test put SDK_VALUE; the printer job started after it sees it.
        (await pilot.WaitForLineAsync("printed=", timeout.Token)).ShouldContain("printed=from-typescript");
    }

    [Fact]
    public async Task ReadmeExample_CompilesWithTsc_AndRunsAgainstPilot()
    {
        Repository.RequireNodeModules();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var consumer = await PackedClients.TypeScriptConsumerAsync(timeout.Token);
        var example = Path.Combine(consumer, "example");
        Directory.CreateDirectory(example);
        File.Copy(Path.Combine(Repository.TypeScriptClient, "examples/usage.ts"), Path.Combine(example, "usage.ts"), overwrite: true);
        await File.WriteAllTextAsync(Path.Combine(example, "tsconfig.json"), """
            {
              "compilerOptions": {
                "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true,
                "skipLibCheck": true, "types": ["node"], "outDir": "dist"
              },
              "files": ["usage.ts"]
            }
            """, timeout.Token);
        await using var pilot = await LivePilot.StartAsync(timeout.Token);

        var compile = await Repository.RunAsync(
            "node", [Path.Combine(Repository.TypeScriptClient, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], example, timeout.Token);
        compile.ExitCode.ShouldBe(0, compile.Output);
        var run = await Repository.RunAsync(
            "node", ["dist/usage.js"], example, timeout.Token, new Dictionary<string, string> { ["PILOT_SOCKET"] = pilot.SocketPath });
        pilot.SendSigHup();

        run.ExitCode.ShouldBe(0, run.Output);
        run.Stdout.ShouldContain("\"maintenance\":true", customMessage: run.Output);
        run.Stderr.ShouldContain("422", customMessage: "the refused name is reported as a problem");
        (await pilot.WaitForLineAsync("printed=", timeout.Token)).ShouldEndWith("db=10.0.0.5");
    }
}
