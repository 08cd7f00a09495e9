using Pilot.Clients.Tests.Support;
using Shouldly;

namespace Pilot.Clients.Tests.Generation;

/// <summary>The checked-in clients are exactly what scripts/generate-clients makes of openapi/pilot.v3.json.</summary>
public sealed class StalenessTests(FreshClients fresh) : IClassFixture<FreshClients>
{
    [Fact]
    public void CheckedInClients_MatchFreshGeneration_FromOpenApiDocument()
    {
        var differences = ClientTree.Differences(Checkout.Root, fresh.Root);

        ClientTree.Files(fresh.Root).ShouldContain("clients/typescript/src/pilot.d.ts");
        ClientTree.Files(fresh.Root).ShouldContain("clients/csharp/Pilot.Client/Generated/PilotControlClient.cs");
        if (differences.Count > 0)
        {
            Assert.Fail(
                "The clients under clients/ are stale against openapi/pilot.v3.json: run ./scripts/generate-clients and commit the result.\n"
                + string.Join('\n', differences));
        }
    }

    [Fact]
    public void Differences_NameEachStaleFile_WhenTreeEdited()
    {
        var edited = Directory.CreateTempSubdirectory("pilot-clients-edited-").FullName;
        try
        {
            CopyTree(fresh.Root, edited);
            var models = "clients/csharp/Pilot.Client/Generated/Models";
            File.AppendAllText(Path.Combine(edited, "clients/typescript/src/pilot.d.ts"), "// edited by hand\n");
            File.Delete(Path.Combine(edited, models, "OkResponse.cs"));
            File.WriteAllText(Path.Combine(edited, models, "Leftover.cs"), "// from an older document\n");

            var differences = ClientTree.Differences(edited, fresh.Root);

            differences.Count.ShouldBe(3, string.Join('\n', differences));
            differences.ShouldContain(d => d.StartsWith("clients/typescript/src/pilot.d.ts: differs", StringComparison.Ordinal));
            differences.ShouldContain($"{models}/OkResponse.cs: generated but not checked in");
            differences.ShouldContain($"{models}/Leftover.cs: checked in but no longer generated");
        }
        finally
        {
            Directory.Delete(edited, recursive: true);
        }
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
