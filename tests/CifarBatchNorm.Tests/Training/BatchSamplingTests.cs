using CifarBatchNorm.Training;
using static TorchSharp.torch;

namespace CifarBatchNorm.Tests.Training;

public sealed class BatchSamplingTests
{
    [Fact]
    public void Non_iid_batches_hold_about_two_classes_and_cover_every_sample_once()
    {
        byte[] labels = Enumerable.Range(0, 1000).Select(i => (byte)(i % 10)).ToArray();
        int[] order = new int[labels.Length];
        manual_seed(3);

        Trainer.NonIidOrder(order, labels, batchSize: 20);

        Assert.Equal(Enumerable.Range(0, 1000), order.Order());
        var classesPerBatch = order.Chunk(20).Select(batch => batch.Select(i => labels[i]).Distinct().Count()).ToList();
        Assert.True(classesPerBatch.Max() <= 2, $"a batch held {classesPerBatch.Max()} classes");
        Assert.Contains(classesPerBatch, c => c == 2);

        int[] again = new int[labels.Length];
        manual_seed(3);
        Trainer.NonIidOrder(again, labels, batchSize: 20);
        Assert.Equal(order, again);
    }
}
