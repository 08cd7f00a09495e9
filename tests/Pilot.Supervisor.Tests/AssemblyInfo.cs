using System.Runtime.Versioning;

// Pilot is a Linux init: its tests run on Linux only (Unix file modes, /proc, signals).
[assembly: SupportedOSPlatform("linux")]
