namespace Pilot.Testing;

/// <summary>Programs the tests put on a PATH: scripts, executable or not (linked into each test assembly as source).</summary>
internal static class ProgramFile
{
    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Executable = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> (making its directory), mode 0755, or 0644 when not <paramref name="executable"/>.</summary>
    public static void Write(string path, string text, bool executable = true)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, executable ? Readable | Executable : Readable);
    }
}
