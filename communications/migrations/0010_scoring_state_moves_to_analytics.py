# Scoring's state (claim, scorer, version, scored_at, error) now lives on analytics' ConversationScore;
# analytics.0005_scoring_state copies it there first (its run_before names this migration).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('communications', '0009_usage_records'),
    ]

    operations = [
        migrations.RemoveField(model_name='conversation', name='scoring_started_at'),
        migrations.RemoveField(model_name='conversation', name='scored_at'),
        migrations.RemoveField(model_name='conversation', name='scorer'),
        migrations.RemoveField(model_name='conversation', name='scorer_version'),
        migrations.RemoveField(model_name='conversation', name='scoring_error'),
    ]
