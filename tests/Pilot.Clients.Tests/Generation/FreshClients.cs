using Pilot.Clients.Tests.Support;
using Shouldly;

namespace Pilot.Clients.Tests.Generation;

/// <summary>One run of scripts/generate-clients into a temp dir, shared by the staleness tests.</summary>
public sealed class FreshClients : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("pilot-clients-fresh-").FullName;

    public async ValueTask InitializeAsync()
    {
        // Kiota's first run restores the tool; the update check it makes may wait on an unreachable network.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var run = await Repository.RunAsync(
            Path.Combine(Checkout.Root, "scripts/generate-clients"), [Root], Checkout.Root, timeout.Token);
        run.ExitCode.ShouldBe(0, $"scripts/generate-clients failed:\n{run.Output}");
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return ValueTask.CompletedTask;
    }
}
