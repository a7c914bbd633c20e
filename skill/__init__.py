"""post-run-yoga: an Alexa skill that talks a runner through a post-run yoga routine."""
