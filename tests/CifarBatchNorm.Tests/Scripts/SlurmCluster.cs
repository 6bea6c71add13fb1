using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CifarBatchNorm.Tests.Support;

namespace CifarBatchNorm.Tests.Scripts;

/// <summary>
/// A one-node Slurm cluster for the tests, started as root from Debian's <c>slurm-wlm</c> and <c>munge</c>: munged with
/// its own key and socket, slurmctld and slurmd on free ports, configuration, state, spool, logs and pid files in one
/// temporary folder. The daemons fork into the background; they are ended by the pids in their pid files on dispose.
/// Where the packages (or root) are missing, <see cref="Missing"/> says why and how to install them.
/// </summary>
public sealed class SlurmCluster : IDisposable
{
    /// <summary>What the tests need installed, for the skip message and <c>.ci/run</c>.</summary>
    public const string InstallCommand = "apt-get install slurm-wlm munge";

    private static readonly string[] Programs = ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch", "/usr/bin/scontrol", "/usr/bin/scancel", "/usr/bin/sinfo", "/usr/bin/squeue", "/usr/sbin/runuser"];

    private readonly List<string> _pidFiles = [];

    /// <summary>Starts the cluster, unless something it needs is missing (then see <see cref="Missing"/>).</summary>
    public SlurmCluster()
    {
        Missing = WhyNot();
        if (Missing is not null || !OperatingSystem.IsLinux())
        {
            return;
        }

        Folder = Path.Combine(Path.GetTempPath(), "cifar-bn-slurm-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Start();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Why no cluster runs here and how to get one, or <c>null</c> when it runs.</summary>
    public string? Missing { get; }

    /// <summary>The folder that holds the cluster's configuration, state, spool and logs.</summary>
    public string Folder { get; } = "";

    /// <summary>The <c>slurm.conf</c> every Slurm command must be given (<c>SLURM_CONF</c>).</summary>
    public string ConfigFile => Path.Combine(Folder, "slurm.conf");

    /// <summary>Skips the calling test where no cluster runs (fails instead under <c>CIFAR_BATCHNORM_REQUIRE_DATA=1</c>).</summary>
    public void Require() => RequiredData.Require(Missing is null, Missing ?? "");

    /// <summary>Runs a program against this cluster (<c>SLURM_CONF</c> set); returns what it printed.</summary>
    public CommandResult Run(string program, params string[] arguments) => Run(StartInfo(program, arguments));

    /// <summary>Runs a started program to its end (at most 5 minutes); returns what it printed.</summary>
    public static CommandResult Run(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish within 5 minutes.");
        }

        return new CommandResult(process.ExitCode, output.Result, error);
    }

    /// <summary>How to start a program against this cluster: output redirected, <c>SLURM_CONF</c> set, no MSBuild variables.</summary>
    public ProcessStartInfo StartInfo(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The jobs inherit this environment (sbatch's default --export=ALL): nothing of the MSBuild that runs the tests.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["SLURM_CONF"] = ConfigFile;
        return start;
    }

    /// <summary>The last lines of the controller's log, for assertion messages.</summary>
    public string ControllerLog(int lines = 40) =>
        File.Exists(Path.Combine(Folder, "log", "slurmctld.log"))
            ? "\n--- slurmctld.log ---\n" + string.Join('\n', File.ReadLines(Path.Combine(Folder, "log", "slurmctld.log")).TakeLast(lines))
            : "";

    /// <summary>One field (e.g. <c>JobState</c>) of <c>scontrol show job</c> for <paramref name="job"/>, or <c>null</c>.</summary>
    public string? JobField(string job, string field)
    {
        var shown = Run("/usr/bin/scontrol", "show", "job", "-o", job);
        return shown.Output.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(pair => pair.StartsWith(field + "=", StringComparison.Ordinal)).Select(pair => pair[(field.Length + 1)..]).FirstOrDefault();
    }

    /// <summary>Cancels every job, then ends slurmd, slurmctld and munged by their pids and removes the folder.</summary>
    public void Dispose()
    {
        if (_pidFiles.Count > 0 && File.Exists(ConfigFile))
        {
            _ = Run("/usr/bin/scancel", "--user", "root", "--full");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Run("/usr/bin/squeue", "--noheader").Output.Trim().Length > 0 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(250);
            }
        }

        foreach (string pidFile in Enumerable.Reverse(_pidFiles))
        {
            Stop(pidFile);
        }

        _pidFiles.Clear();
        if (Folder.Length > 0 && Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    private static string? WhyNot()
    {
        string reason = $"the Slurm sweep tests start a one-node Slurm cluster as root; install it with: {InstallCommand}";
        if (!OperatingSystem.IsLinux())
        {
            return $"not Linux: {reason}";
        }

        if (Programs.FirstOrDefault(p => !File.Exists(p)) is string absent)
        {
            return $"{absent} not found: {reason}";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return $"not root: {reason}";
        }

        return null;
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private void Start()
    {
        string munge = Path.Combine(Folder, "munge");
        foreach (string dir in new[] { Folder, munge, Path.Combine(Folder, "state"), Path.Combine(Folder, "spool"), Path.Combine(Folder, "log") })
        {
            Directory.CreateDirectory(dir);
            // munged refuses a socket folder that others cannot traverse, or one that others can write.
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        string key = Path.Combine(munge, "munge.key");
        File.WriteAllBytes(key, System.Security.Cryptography.RandomNumberGenerator.GetBytes(1024));
        File.SetUnixFileMode(key, UnixFileMode.UserRead);
        Check(Run("/usr/bin/chown", "-R", "munge:munge", munge), "chown of the munge folder");
        string socket = Path.Combine(munge, "munge.socket");
        Daemon(Path.Combine(munge, "munged.pid"), "/usr/sbin/runuser", "-u", "munge", "--", "/usr/sbin/munged",
            $"--socket={socket}", $"--key-file={key}", $"--pid-file={Path.Combine(munge, "munged.pid")}",
            $"--log-file={Path.Combine(munge, "munged.log")}", $"--seed-file={Path.Combine(munge, "munged.seed")}");

        string node = Environment.MachineName.Split('.')[0];
        var listeners = new[] { new TcpListener(IPAddress.Loopback, 0), new TcpListener(IPAddress.Loopback, 0) };
        foreach (var listener in listeners)
        {
            listener.Start();   // both held at once, so the two ports differ
        }

        int[] ports = [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        foreach (var listener in listeners)
        {
            listener.Dispose();
        }

        File.WriteAllText(ConfigFile, string.Join('\n',
            "ClusterName=cifarbntest",
            $"SlurmctldHost={node}",
            "SlurmUser=root",
            "SlurmdUser=root",
            $"SlurmctldPort={ports[0]}",
            $"SlurmdPort={ports[1]}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            $"AuthInfo=socket={socket}",
            $"StateSaveLocation={Path.Combine(Folder, "state")}",
            $"SlurmdSpoolDir={Path.Combine(Folder, "spool")}",
            $"SlurmctldPidFile={Path.Combine(Folder, "slurmctld.pid")}",
            $"SlurmdPidFile={Path.Combine(Folder, "slurmd.pid")}",
            $"SlurmctldLogFile={Path.Combine(Folder, "log", "slurmctld.log")}",
            $"SlurmdLogFile={Path.Combine(Folder, "log", "slurmd.log")}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "ReturnToService=2",
            "MpiDefault=none",
            "JobCompType=jobcomp/none",
            "AccountingStorageType=accounting_storage/none",
            $"NodeName={node} CPUs={Environment.ProcessorCount} State=UNKNOWN",
            $"PartitionName=test Nodes={node} Default=YES MaxTime=INFINITE State=UP",
            ""));
        Daemon(Path.Combine(Folder, "slurmctld.pid"), "/usr/sbin/slurmctld");
        Daemon(Path.Combine(Folder, "slurmd.pid"), "/usr/sbin/slurmd");

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Run("/usr/bin/sinfo", "--noheader", "--format=%t").Output.Trim() != "idle")
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"The node did not become idle within 60 s; see {Path.Combine(Folder, "log")}.");
            }

            Thread.Sleep(250);
        }
    }

    /// <summary>Starts a daemon that forks into the background and waits for its pid file.</summary>
    private void Daemon(string pidFile, string program, params string[] arguments)
    {
        _pidFiles.Add(pidFile);
        Check(Run(program, arguments), Path.GetFileName(pidFile));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(pidFile) || File.ReadAllText(pidFile).Trim().Length == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{program} wrote no {pidFile} within 30 s.");
            }

            Thread.Sleep(100);
        }
    }

    private static void Check(CommandResult result, string what)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed: {result.Transcript}");
        }
    }

    /// <summary>Ends the daemon in <paramref name="pidFile"/>: SIGTERM, then SIGKILL after 10 s.</summary>
    private static void Stop(string pidFile)
    {
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
        {
            return;
        }

        Process daemon;
        try
        {
            daemon = Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return;   // already gone
        }

        using (daemon)
        {
            using (var kill = Process.Start("/bin/kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            if (!daemon.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                daemon.Kill();
                daemon.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
    }
}
