using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using Pilot.Client;
using Pilot.Clients.Tests.Support;
using Shouldly;

namespace Pilot.Clients.Tests.Packaging;

/// <summary>What the client tests run is what users install: the .nupkg and the .tgz ./scripts/pack-clients makes.</summary>
public sealed class PackedClientTests
{
    [Fact]
    public void CSharpClient_IsTheNuGetPackage_NotTheSourceProject()
    {
#if PACKED_CLIENT
        var nupkg = PackedClients.Single("Pilot.Client.*.nupkg");
        var version = typeof(PilotControlClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        Path.GetFileName(nupkg).ShouldBe($"Pilot.Client.{version.Split('+')[0]}.nupkg");
        using var package = ZipFile.OpenRead(nupkg);
        package.Entries.Select(e => e.FullName).ShouldContain("lib/net10.0/Pilot.Client.dll");
        package.Entries.Select(e => e.FullName).ShouldContain("README.md");
#else
        Assert.Fail("tests/Pilot.Clients.Tests was built against clients/csharp/Pilot.Client: run ./scripts/pack-clients, then build again");
#endif
    }

    [Fact]
    public async Task TypeScriptClient_IsInstalledFromTheTarball_WithItsSourcesOnly()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var consumer = await PackedClients.TypeScriptConsumerAsync(timeout.Token);

        var installed = Path.Combine(consumer, "node_modules/@pilot/control-client");
        var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(installed, "package.json"), timeout.Token)).RootElement;
        manifest.GetProperty("name").GetString().ShouldBe("@pilot/control-client");
        File.Exists(Path.Combine(installed, "src/index.js")).ShouldBeTrue();
        File.Exists(Path.Combine(installed, "src/pilot.d.ts")).ShouldBeTrue();
        System.IO.Directory.Exists(Path.Combine(installed, "test")).ShouldBeFalse("only src/ is packed");
        var lockFile = await File.ReadAllTextAsync(Path.Combine(consumer, "package-lock.json"), timeout.Token);
        lockFile.ShouldContain("pilot-control-client-", customMessage: "installed from the packed tarball");
    }

    [Theory]
    [InlineData("clients/csharp/examples/Usage.cs")]
    [InlineData("clients/typescript/examples/usage.ts")]
    public async Task Readme_ShowsTheTestedExamples_Verbatim(string example)
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(Checkout.Root, "clients/README.md"), TestContext.Current.CancellationToken);
        var code = await File.ReadAllTextAsync(Path.Combine(Checkout.Root, example), TestContext.Current.CancellationToken);

        readme.ShouldContain(code.TrimEnd(), customMessage: $"clients/README.md must show {example} as it is tested");
    }
}
