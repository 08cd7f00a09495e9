using Shouldly;

namespace Pilot.Clients.Tests.Support;

/// <summary>
/// The clients as users install them: the files ./scripts/pack-clients writes to artifacts/packages, and a TypeScript
/// consumer project (made once per test run) that installed the tarball with npm.
/// </summary>
internal static class PackedClients
{
    private static readonly SemaphoreSlim ConsumerGate = new(1, 1);
    private static string? _consumer;

    public static string Directory => Path.Combine(Checkout.Root, "artifacts/packages");

    /// <summary>The one file matching <paramref name="pattern"/> in artifacts/packages; fails saying how to make it.</summary>
    public static string Single(string pattern)
    {
        var files = System.IO.Directory.Exists(Directory) ? System.IO.Directory.GetFiles(Directory, pattern) : [];
        files.Length.ShouldBe(1, $"artifacts/packages/{pattern}: run ./scripts/pack-clients (./scripts/test does it)");
        return files[0];
    }

    /// <summary>A directory where <c>npm install</c> put the packed TypeScript client (and @types/node for tsc).</summary>
    public static async Task<string> TypeScriptConsumerAsync(CancellationToken cancellationToken)
    {
        await ConsumerGate.WaitAsync(cancellationToken);
        try
        {
            if (_consumer is not null)
            {
                return _consumer;
            }
            var tarball = Single("pilot-control-client-*.tgz");
            var consumer = System.IO.Directory.CreateTempSubdirectory("pilot-ts-consumer-").FullName;
            await File.WriteAllTextAsync(Path.Combine(consumer, "package.json"),
                """{ "name": "consumer", "private": true, "type": "module" }""", cancellationToken);
            var install = await Repository.RunAsync(
                "npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, "@types/node@20.19.43"], consumer, cancellationToken);
            install.ExitCode.ShouldBe(0, install.Output);
            return _consumer = consumer;
        }
        finally
        {
            ConsumerGate.Release();
        }
    }
}
