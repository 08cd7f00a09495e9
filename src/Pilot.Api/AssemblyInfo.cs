using System.Runtime.Versioning;

// Pilot is a Linux container init: Unix sockets, file modes and signals are its platform.
[assembly: SupportedOSPlatform("linux")]
