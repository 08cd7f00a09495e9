namespace Pilot.Testing;

/// <summary>
/// Where things are in this checkout, for the test assemblies and the bench (linked into each as source, so none of
/// them needs a project reference just for paths).
/// </summary>
internal static class Checkout
{
    /// <summary>The directory holding Pilot.sln, found above the running assembly.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary><c>$PILOT_BIN</c>, else the apphost copied beside the assembly, else <c>src/Pilot.Api/bin/&lt;cfg&gt;/net10.0/pilot</c>.</summary>
    public static string PilotBinary()
    {
        if (Environment.GetEnvironmentVariable("PILOT_BIN") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }
        var beside = Path.Combine(AppContext.BaseDirectory, "pilot");
        if (File.Exists(beside))
        {
            return beside;
        }
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        return Path.Combine(Root, "src/Pilot.Api/bin", configuration, "net10.0/pilot");
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Pilot.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("Pilot.sln not found above " + AppContext.BaseDirectory);
    }
}
