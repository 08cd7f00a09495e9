namespace Pilot.Clients.Tests.Generation;

/// <summary>The generated files of a checkout (or of a fresh generation under some directory), by relative path.</summary>
internal static class ClientTree
{
    /// <summary>Everything scripts/generate-clients writes; hand-written files beside them are not compared.</summary>
    private static readonly string[] GeneratedDirectories = ["clients/csharp/Pilot.Client/Generated"];

    private static readonly string[] GeneratedFiles = ["clients/typescript/src/pilot.d.ts"];

    public static IReadOnlyList<string> Files(string root) =>
        [.. GeneratedDirectories
            .Select(d => Path.Combine(root, d))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.GetFiles(d, "*", SearchOption.AllDirectories))
            .Concat(GeneratedFiles.Select(f => Path.Combine(root, f)).Where(File.Exists))
            .Select(f => Path.GetRelativePath(root, f))
            .Order(StringComparer.Ordinal)];

    /// <summary>Every difference between the checked-in tree and a fresh one; empty when they are byte-identical.</summary>
    public static IReadOnlyList<string> Differences(string checkedInRoot, string freshRoot)
    {
        var checkedIn = Files(checkedInRoot);
        var fresh = Files(freshRoot);
        var differences = new List<string>();
        differences.AddRange(fresh.Except(checkedIn).Select(f => $"{f}: generated but not checked in"));
        differences.AddRange(checkedIn.Except(fresh).Select(f => $"{f}: checked in but no longer generated"));
        foreach (var file in checkedIn.Intersect(fresh))
        {
            var old = File.ReadAllBytes(Path.Combine(checkedInRoot, file));
            var now = File.ReadAllBytes(Path.Combine(freshRoot, file));
            if (!old.AsSpan().SequenceEqual(now))
            {
                differences.Add($"{file}: differs{FirstDifferentLine(old, now)}");
            }
        }
        return differences;
    }

    private static string FirstDifferentLine(byte[] old, byte[] now)
    {
        var oldLines = System.Text.Encoding.UTF8.GetString(old).Split('\n');
        var newLines = System.Text.Encoding.UTF8.GetString(now).Split('\n');
        for (var i = 0; i < Math.Max(oldLines.Length, newLines.Length); i++)
        {
            var a = i < oldLines.Length ? oldLines[i] : "<end of file>";
            var b = i < newLines.Length ? newLines[i] : "<end of file>";
            if (a != b)
            {
                return $" at line {i + 1}: checked in `{a.Trim()}`, generated `{b.Trim()}`";
            }
        }
        return " (line endings or encoding)";
    }
}
