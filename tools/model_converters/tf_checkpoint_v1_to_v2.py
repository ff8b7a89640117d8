"""Re-save a TensorFlow V1 checkpoint (one file, e.g. the 2016 TF-slim ``vgg_16.ckpt``) in the
V2 format (``.index`` + ``.data-*``) that hda-ssd reads without TensorFlow.

This is the one step that needs TensorFlow; run it once wherever TensorFlow is installed:

    pip install tensorflow-cpu        # any TF 2.x (or 1.x)
    python tools/model_converters/tf_checkpoint_v1_to_v2.py vgg_16.ckpt vgg_16_v2/vgg_16.ckpt

It copies every variable with its name, dtype and value; nothing else is changed.
"""
import argparse
import os
import os.path as osp


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('src', help='V1 checkpoint file (or any checkpoint TensorFlow reads)')
    p.add_argument('dst', help='output prefix, e.g. vgg_16_v2/vgg_16.ckpt')
    args = p.parse_args()
    import tensorflow as tf
    reader = tf.compat.v1.train.NewCheckpointReader(args.src)
    names = sorted(reader.get_variable_to_shape_map())
    graph = tf.Graph()
    with graph.as_default():
        variables = {n: tf.compat.v1.Variable(reader.get_tensor(n), name=n) for n in names}
        saver = tf.compat.v1.train.Saver(variables, write_version=tf.compat.v1.train.SaverDef.V2)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
            saver.save(sess, args.dst, write_meta_graph=False, write_state=False)
    print(f'{len(names)} variables -> {args.dst}.index + {args.dst}.data-00000-of-00001')


if __name__ == '__main__':
    main()
