using Pilot.Clients.Tests.Support;
using Shouldly;

namespace Pilot.Clients.Tests.Generation;

/// <summary>The TypeScript entry point and test compile (tsc, strict, checkJs) against the generated types.</summary>
public sealed class TypeScriptTypeCheckTests
{
    [Fact]
    public async Task TypeScriptClient_TypeChecks_AgainstGeneratedTypes()
    {
        Repository.RequireNodeModules();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var run = await Repository.RunAsync(
            "node", ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], Repository.TypeScriptClient, timeout.Token);

        run.ExitCode.ShouldBe(0, run.Output);
    }
}
