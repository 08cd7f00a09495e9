using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Pilot.Bench;

/// <summary>
/// <c>Native/stamp.c</c> compiled for this machine: a job that writes the wall clock to a file as the first and last
/// thing it does, so the exit → exec figures time the supervisor and not a shell's start-up.
/// </summary>
internal static class StampProgram
{
    private static readonly Lock Gate = new();
    private static string? compiled;

    /// <summary>The path of the compiled program (compiled on first use, with the system's C compiler).</summary>
    public static string Path(Scratch scratch)
    {
        lock (Gate)
        {
            return compiled ??= Compile(scratch.File("stamp"));
        }
    }

    private static string Compile(string output)
    {
        var source = System.IO.Path.Combine(Checkout.Root, "bench/Pilot.Bench/Native/stamp.c");
        // Without libc on x86-64, nothing (no dynamic loader, no libc start-up) runs before the stamp.
        string[] flags = RuntimeInformation.ProcessArchitecture == Architecture.X64
            ? ["-O2", "-static", "-nostdlib", "-fno-stack-protector"]
            : ["-O2"];
        var info = new ProcessStartInfo("cc") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in (string[])[.. flags, "-o", output, source])
        {
            info.ArgumentList.Add(argument);
        }
        using var compiler = Process.Start(info)!;
        var errors = compiler.StandardError.ReadToEnd();
        compiler.WaitForExit();
        if (compiler.ExitCode != 0)
        {
            throw new InvalidOperationException($"cc could not compile {source}: {errors}");
        }
        return output;
    }
}
