using System.Runtime.InteropServices;

namespace Pilot.Supervisor.Config;

/// <summary>
/// Whether HTTPS can work in this image. .NET does TLS with OpenSSL's libssl, loaded at run time; when it cannot load
/// one, the runtime aborts the process at the first TLS connection ("No usable version of libssl was found"). So an
/// <c>https</c> Consul address or health check is refused when the config is loaded (start, reload, <c>-validate</c>)
/// if no libssl can be loaded. The shipped Pilot is a static glibc binary: it loads libssl with glibc's loader, so it
/// also needs a glibc image (Debian, Ubuntu; not Alpine or scratch), whose libssl it then uses.
/// </summary>
public static class TlsLibrary
{
    /// <summary>Set by the static build (Pilot.Api.csproj).</summary>
    public const string StaticSwitch = "Pilot.StaticExecutable";

    private static readonly string[] LibsslNames = ["libssl.so.3", "libssl.so.1.1", "libssl.so.1.0.2", "libssl.so.1.0.0", "libssl.so.10"];

    private static readonly Lazy<string?> Probe = new(WhyUnavailable);

    /// <summary>Null when libssl can be loaded; otherwise why not, from the user's side.</summary>
    public static string? Unavailable => Probe.Value;

    private static string? WhyUnavailable()
    {
        var loader = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "/lib/ld-linux-aarch64.so.1" : "/lib64/ld-linux-x86-64.so.2";
        if (AppContext.TryGetSwitch(StaticSwitch, out var isStatic) && isStatic && !File.Exists(loader))
        {
            // Loading a musl-built libssl (Alpine's) into a glibc process is not safe, so it is not even tried.
            return $"Pilot is a static binary that loads OpenSSL's libssl with glibc, and this image has no glibc ({loader} is missing, " +
                "as in Alpine or scratch images): use http, or a glibc image (Debian, Ubuntu) with libssl3";
        }
        foreach (var name in LibsslNames)
        {
            if (NativeLibrary.TryLoad(name, out _))
            {
                // Left loaded: the runtime loads the same library when it first needs TLS.
                return null;
            }
        }
        return $"no OpenSSL libssl ({string.Join(", ", LibsslNames.Take(2))}) can be loaded in this image: install it (Debian, Ubuntu: libssl3) or use http";
    }
}
