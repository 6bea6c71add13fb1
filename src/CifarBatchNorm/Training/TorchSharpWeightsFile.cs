using CifarBatchNorm.IO;
using static TorchSharp.torch;

namespace CifarBatchNorm.Training;

/// <summary>TorchSharp's own <c>.pt</c> format (<c>module.save</c>/<c>load</c>): every parameter and buffer, bit-exact.</summary>
internal static class TorchSharpWeightsFile
{
    /// <summary>Saves the weights and BN statistics through a temporary file.</summary>
    public static void Save(Sequential model, string path) => AtomicFile.Write(path, temp => model.save(temp));

    /// <summary>Loads weights saved by <see cref="Save"/>; on any failure the model's previous state is put back.</summary>
    public static void Load(Sequential model, string path)
    {
        var backup = Snapshot(model);
        try
        {
            model.load(path, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException or FormatException)
        {
            Restore(model, backup);
            throw new ModelFileException(
                $"{Path.GetFullPath(path)} does not hold weights for this model ({e.Message.Split('\n')[0]}); it is corrupted or from another architecture.", e);
        }
        finally
        {
            foreach (var tensor in backup.Values)
            {
                tensor.Dispose();
            }
        }
    }

    private static Dictionary<string, Tensor> Snapshot(Sequential model)
    {
        using var noGrad = no_grad();
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal);
    }

    private static void Restore(Sequential model, Dictionary<string, Tensor> backup)
    {
        using var noGrad = no_grad();
        foreach (var (name, tensor) in model.state_dict())
        {
            tensor.copy_(backup[name]);
        }
    }
}
